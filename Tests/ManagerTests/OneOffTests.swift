import Addressing
import ClusterStore
import FoundationEssentials
import ShoalAPI
import Testing
@testable import Manager

/// What the manager checks before it makes the one-off of `shoal run`, and the service it makes.
@Suite struct OneOffTests {
    private func network(_ name: String, attachable: Bool, ingress: Bool = false) throws -> NetworkObject {
        NetworkObject(meta: ObjectMeta(id: "id-\(name)"), name: name, subnet: try #require(IPv4Network("10.0.9.0/24")),
                      gateway: try #require(IPv4Address("10.0.9.1")), vni: 4097, attachable: attachable, ingress: ingress)
    }

    private func refusal(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }

    @Test func aOneOffIsOneTaskOnTheAskingNodeResolvingToItselfThatIsNeverRestarted() throws {
        let networks = [try network("dig_default", attachable: true)]
        let spec = try ControlAPI.oneOffSpec(OneOffRequest(name: "probe", network: "dig_default", env: ["K=V", "EMPTY="]),
                                             on: "node1", networks: networks, takenNames: ["web"])
        #expect(spec.name == "probe" && spec.replicas == 1 && spec.command == OneOff.holderCommand)
        #expect(spec.constraints == ["node.id==node1"] && spec.restartCondition == "none" && spec.endpointMode == "dnsrr")
        #expect(spec.networks == ["id-dig_default"] && spec.env == ["K=V", "EMPTY="])
        // What service create takes: the spec the one-off's service is made of passes its checks.
        let task = try ControlAPI.validate(spec, networks: networks)
        #expect(task.restart.condition == .none && task.networks == ["id-dig_default"])
    }

    @Test func aNetworkNotManuallyAttachableIsRefusedInDockersWords() throws {
        let networks = [try network("plain", attachable: false), try network("ingress", attachable: false, ingress: true)]
        for name in ["plain", "ingress"] {
            #expect(refusal {
                _ = try ControlAPI.oneOffSpec(OneOffRequest(network: name), on: "node1", networks: networks, takenNames: [])
            } == "Could not attach to network \(name): rpc error: code = PermissionDenied desc = network \(name) not manually attachable")
        }
        #expect(refusal {
            _ = try ControlAPI.oneOffSpec(OneOffRequest(network: "nope"), on: "node1", networks: networks, takenNames: [])
        } == "network nope not found: see shoal network ls")
    }

    @Test func namesAndEnvironmentAreChecked() throws {
        let networks = [try network("net", attachable: true)]
        func refusal(name: String? = nil, env: [String] = []) -> String? {
            self.refusal {
                _ = try ControlAPI.oneOffSpec(OneOffRequest(name: name, network: "net", env: env), on: "n", networks: networks,
                                              takenNames: ["web"])
            }
        }
        #expect(refusal(name: "web") == "the name web is already in use by a service: choose another --name, or remove it first")
        #expect(refusal(name: "-x")?.hasPrefix("invalid one-off name \"-x\"") == true)
        #expect(refusal(env: ["K"]) == "invalid environment variable \"K\": use -e KEY=VALUE")
        #expect(refusal(env: ["=V"]) == "invalid environment variable \"=V\": use -e KEY=VALUE")
        #expect(refusal(env: ["K=a=b"]) == nil)
    }

    @Test func withoutANameADockerStyleOneThatIsFreeIsPicked() throws {
        let networks = [try network("net", attachable: true)]
        let first = try ControlAPI.oneOffSpec(OneOffRequest(network: "net"), on: "n", networks: networks, takenNames: [],
                                              random: { _ in 0 }).name
        #expect(first == "admiring_albattani" && ObjectName.isValid(first))
        let next = try ControlAPI.oneOffSpec(OneOffRequest(network: "net"), on: "n", networks: networks, takenNames: [first],
                                             random: { _ in 0 }).name
        #expect(next == "admiring_allen")
    }
}
