#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ShoalAPI

@Suite struct ValidationTests {
    @Test func durationsAreBoundedWhereParsed() throws {
        #expect(try Durations.seconds("1m30s", option: "--restart-delay") == 90)
        #expect(try Durations.seconds("0", option: "--restart-delay") == 0)
        #expect(try Durations.seconds("168h", option: "--restart-delay") == 7 * 24 * 3600)
        for huge in ["169h", "99999999999999999999999h", "1e400s"] {
            #expect(throws: ShoalError.self) { try Durations.seconds(huge, option: "--restart-delay") }
        }
        // A flag with a range of its own: docker's default certificate expiry is far past a week.
        let expiry = 0...CertificateExpiry.maximumSeconds
        #expect(try Durations.seconds("2160h0m0s", option: "--cert-expiry", range: expiry) == CertificateExpiry.defaultSeconds)
        #expect(throws: ShoalError.self) { try Durations.seconds("200000h", option: "--cert-expiry", range: expiry) }
    }

    @Test func formattingADurationNeverTraps() {
        #expect(Durations.text(1) == "1s")
        #expect(Durations.text(0.5) == "500ms")
        for value in [1e300, -1e300, Double.infinity, -Double.infinity, Double.nan, Double.greatestFiniteMagnitude] {
            #expect(!Durations.text(value).isEmpty)
        }
    }

    @Test func aHeartbeatPeriodFromAnOldLogIsClampedNotTrappedOn() {
        #expect(Limits.heartbeatPeriod(clamping: 1) == .seconds(1))
        #expect(Limits.heartbeatPeriod(clamping: 1e300) == .seconds(60))
        #expect(Limits.heartbeatPeriod(clamping: -1e300) == .milliseconds(100))
        #expect(Limits.heartbeatPeriod(clamping: 0) == .milliseconds(100))
        #expect(Limits.heartbeatPeriod(clamping: .nan) == .seconds(1))
        #expect(Limits.heartbeatPeriod(clamping: .infinity) == .seconds(1))
    }

    @Test func objectIDsAreTwentyFiveCharactersOfLowercaseBase36() {
        #expect(ObjectID.isValid("abcdefghijkl0123456789xyz"))
        for bad in ["", "abc", "abcdefghijkl0123456789xy", "abcdefghijkl0123456789xyzz", "ABCDEFGHIJKL0123456789XYZ",
                    "../../../../../../etc/pwd", "abcdefghijkl0123456789xy/", "abcdefghijkl0123456789xyé"] {
            #expect(!ObjectID.isValid(bad), "\(bad)")
        }
    }

    @Test func everyRequestFieldIsCheckedWithTheCLIsRanges() {
        func refused(_ request: some ValidatedRequest) -> Bool { (try? request.validate()) == nil }
        for period in [0, -1, 0.09, 60.5, 1e300] {
            #expect(refused(SwarmInitRequest(advertiseAddress: nil, listenAddress: nil, heartbeatPeriod: period)), "\(period)")
        }
        #expect(!refused(SwarmInitRequest(advertiseAddress: "eth0", listenAddress: "0.0.0.0:2377", heartbeatPeriod: 0.1)))
        #expect(refused(SwarmInitRequest(advertiseAddress: nil, listenAddress: "0.0.0.0:99999")))
        #expect(refused(SwarmInitRequest(advertiseAddress: "a b", listenAddress: nil)))
        #expect(refused(SwarmJoinRequest(token: "", remoteAddress: "10.0.0.1", advertiseAddress: nil, listenAddress: nil)))
        #expect(refused(SwarmJoinRequest(token: "t", remoteAddress: "10.0.0.1:0", advertiseAddress: nil, listenAddress: nil)))
        #expect(!refused(SwarmJoinRequest(token: "t", remoteAddress: "10.0.0.1:2377", advertiseAddress: nil, listenAddress: nil)))
        for manager in ["10.0.0.1", "manager-1", "manager-1:4000"] {
            #expect(!refused(SwarmJoinRequest(token: "t", remoteAddress: manager, advertiseAddress: nil, listenAddress: nil)), "\(manager)")
        }
        for manager in ["", "10.0.0.1:", "10.0.0.1:65536", "10.0.0.1:x", "10.0.0.1 :2377"] {
            #expect(refused(SwarmJoinRequest(token: "t", remoteAddress: manager, advertiseAddress: nil, listenAddress: nil)), "\(manager)")
        }
        #expect(refused(SwarmInitRequest(advertiseAddress: nil, listenAddress: "eth0:2377")))
        #expect(refused(NodeChangeRequest(node: "")))
        #expect(refused(NodeChangeRequest(node: "n", availability: "gone")))
        #expect(!refused(NodeChangeRequest(node: "n", availability: "drain")))
        let spec = ServiceSpecRequest(name: "web", replicas: 1, command: ["true"])
        #expect(!refused(spec))
        for delay: Double in [-1, 1e300, 7 * 24 * 3600 + 1] {
            var bad = spec
            bad.restartDelaySeconds = delay
            #expect(refused(bad), "\(delay)")
        }
        var attempts = spec
        attempts.restartMaxAttempts = -1
        #expect(refused(attempts))
        var workdir = spec
        workdir.workdir = "relative"
        #expect(refused(workdir))
        #expect(refused(ServiceUpdateRequest(service: "web", replicas: -1)))
        var capabilities = spec
        capabilities.capabilityAdd = ["NET_ADMIN", "cap_sys_admin", "ALL"]
        capabilities.capabilityDrop = ["mknod"]
        capabilities.securityOptions = ["seccomp=unconfined"]
        #expect(!refused(capabilities))
        capabilities.capabilityDrop = ["CAP_NOPE"]
        #expect(refused(capabilities))
        capabilities.capabilityDrop = []
        capabilities.securityOptions = ["no-new-privileges=false"]
        #expect(refused(capabilities))
        #expect(refused(ServiceUpdateRequest(service: "web", capabilityAdd: ["SYS ADMIN"])))
        #expect(refused(ServiceUpdateRequest(service: "web", capabilityDrop: [""])))
        #expect(!refused(ServiceUpdateRequest(service: "web", capabilityAdd: ["sys_admin"], capabilityDrop: ["ALL"])))
        #expect(refused(ServiceReferenceRequest(service: "")))
        #expect(refused(LogsRequest(target: "web", tail: -1)))
        #expect(refused(LogsRequest(target: "web", tail: Limits.logTailLines.upperBound + 1)))
        #expect(refused(LogsRequest(target: "web", cursor: ["abcdefghijkl0123456789xyz": -1])))
        #expect(refused(LogsRequest(target: "web", cursor: ["../x": 0])))
        #expect(!refused(LogsRequest(target: "web", tail: 0, cursor: ["abcdefghijkl0123456789xyz": Int.max])))
    }
}
