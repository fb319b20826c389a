import ClusterStore
import FoundationEssentials
import ShoalAPI
import Testing
@testable import Manager

/// What the manager refuses before anything is written, so every write stays replicable.
@Suite struct ServiceLimitsTests {
    private func request(replicas: Int? = 1, command: [String] = ["sleep", "3600"], env: [String] = []) -> ServiceSpecRequest {
        ServiceSpecRequest(name: "web", replicas: replicas, command: command, env: env)
    }

    private func service(_ id: String, replicas: Int, specBytes: Int = 0) -> ServiceObject {
        ServiceObject(meta: ObjectMeta(id: id), name: id, mode: .replicated(replicas: replicas),
                      spec: TaskSpec(command: ["sleep", String(repeating: "1", count: specBytes)]))
    }

    private func refusal(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }

    @Test func capabilitiesAreStoredAsDockerNamesThemAndSecurityOptionsChecked() throws {
        var sandboxed = request()
        (sandboxed.capabilityAdd, sandboxed.capabilityDrop) = (["sys_admin", "CAP_NET_ADMIN", "SYS_ADMIN"], ["all"])
        sandboxed.securityOptions = ["seccomp=unconfined"]
        let spec = try ControlAPI.validate(sandboxed, networks: [])
        #expect(spec.capabilityAdd == ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"] && spec.capabilityDrop == ["ALL"])
        #expect(spec.securityOptions == ["seccomp=unconfined"])
        sandboxed.capabilityAdd = ["NET-ADMIN"]
        #expect(refusal { _ = try ControlAPI.validate(sandboxed, networks: []) }?.contains("invalid capability \"NET-ADMIN\"") == true)
        sandboxed.capabilityAdd = []
        sandboxed.securityOptions = ["apparmor=unconfined"]
        #expect(refusal { _ = try ControlAPI.validate(sandboxed, networks: []) }?.contains("unsupported security option") == true)
    }

    @Test func updatingCapabilitiesMovesThemBetweenTheListsAsDocker() throws {
        let updated = try ControlAPI.updatedCapabilities(add: ["CAP_SYS_ADMIN"], drop: ["CAP_NET_RAW"], adding: ["net_raw", "BPF"],
                                                         dropping: ["SYS_ADMIN"])
        #expect(updated.add == ["CAP_NET_RAW", "CAP_BPF"] && updated.drop == ["CAP_SYS_ADMIN"])
        #expect(refusal { _ = try ControlAPI.updatedCapabilities(add: [], drop: [], adding: ["nope"], dropping: []) } != nil)
    }

    @Test func limitsAndReservationsAreStoredAndCheckedByTheDaemon() throws {
        var limited = request()
        limited.resources = Resources(limitNanoCPUs: 500_000_000, limitMemoryBytes: 32 << 20, limitPids: 20,
                                      reservedMemoryBytes: 16 << 20)
        #expect(try ControlAPI.validate(limited, networks: []).resources == limited.resources)
        limited.resources.reservedMemoryBytes = 64 << 20
        #expect(refusal { _ = try ControlAPI.validate(limited, networks: []) }
            == "--reserve-memory 64MiB is above --limit-memory 32MiB: reserve at most the limit")
        limited.resources = Resources(limitMemoryBytes: 1 << 20)
        #expect(refusal { _ = try ControlAPI.validate(limited, networks: []) }
            == "invalid --limit-memory value 1MiB: the minimum memory limit allowed is 6MB")
        limited.resources = Resources(limitPids: -1)
        #expect(refusal { _ = try ControlAPI.validate(limited, networks: []) }?.hasPrefix("invalid --limit-pids value -1") == true)
    }

    @Test func updatingMountsRemovesByTargetAndReplacesTheSameTargetAsDocker() throws {
        let mounts = ["type=bind,source=/srv,target=/data", "type=tmpfs,target=/cache"]
        #expect(try ControlAPI.updatedMounts(mounts, adding: ["type=tmpfs,target=/data"], removing: ["/cache/"])
            == ["type=tmpfs,target=/data"])
        #expect(try ControlAPI.updatedMounts(mounts, adding: [], removing: ["/nothing"]) == mounts)
        #expect(refusal { _ = try ControlAPI.updatedMounts(mounts, adding: ["type=volume,target=/x"], removing: []) } != nil)
    }

    @Test func replicasAboveTheLimitAreRefusedNamingIt() throws {
        let refused = refusal { _ = try ControlAPI.validate(request(replicas: 50_000), networks: []) }
        #expect(refused == "invalid replicas value 50000: use 0 to 10000, the limit per service")
        #expect(refusal { _ = try ControlAPI.validate(request(replicas: -1), networks: []) }?.contains("use 0 to 10000") == true)
        _ = try ControlAPI.validate(request(replicas: StoreLimits.maximumReplicas), networks: [])
    }

    @Test func aSpecLargerThan64KiBEncodedIsRefusedNamingTheLimit() throws {
        let padding = String(repeating: "x", count: 64 << 10)
        for oversized in [request(command: ["echo", padding]), request(env: ["A=" + padding])] {
            let refused = try #require(refusal { _ = try ControlAPI.validate(oversized, networks: []) })
            #expect(refused.contains("over the limit of 65536"), "\(refused)")
            #expect(!refused.contains("\n"))
        }
        _ = try ControlAPI.validate(request(env: ["A=" + String(repeating: "x", count: 60 << 10)]), networks: [])
    }

    @Test func theSwarmsTotalsAreBounded() {
        let full = [service("a", replicas: StoreLimits.maximumReplicas), service("b", replicas: 1_999)]
        #expect(refusal { try ControlAPI.checkCapacity(full, nodes: []) } == nil)
        let global = ServiceObject(meta: ObjectMeta(id: "g"), name: "g", mode: .global, spec: TaskSpec(command: ["sleep", "1"]))
        let node = NodeObject(meta: ObjectMeta(id: "n"), hostname: "n", advertiseAddress: "", role: .worker, engineVersion: "")
        let tasks = refusal { try ControlAPI.checkCapacity(full + [global], nodes: [node, node]) }
        #expect(tasks?.contains("12001 tasks, over the swarm's limit of 12000") == true, "\(tasks ?? "accepted")")
        let heavy = [service("a", replicas: 200, specBytes: 40 << 10)]
        let bytes = refusal { try ControlAPI.checkCapacity(heavy, nodes: []) }
        #expect(bytes?.contains("over the swarm's limit of 6 MiB") == true, "\(bytes ?? "accepted")")
    }
}
