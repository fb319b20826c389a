import ClusterStore
import ClusterWire
import FoundationEssentials
import ShoalAPI

/// `shoal run`: a one-off is a service of one task on the asking node, with
/// restart condition none, its name resolving to its task (dnsrr), attached
/// to an attachable network; its task only waits (`OneOff.holderCommand`)
/// while `shoal run` execs the user's command in it, then removes it.
extension ControlAPI {
    /// Makes the one-off of node `nodeID` (the node whose daemon `shoal run` asked).
    public func createOneOff(_ request: OneOffRequest, on nodeID: String) async throws -> OneOffCreated {
        let snapshot = manager.store.snapshot
        guard snapshot.nodes.contains(where: { $0.meta.id == nodeID }) else {
            throw SwarmError("node \(nodeID) is not in the swarm: join it before shoal run", kind: .notFound)
        }
        let spec = try Self.oneOffSpec(request, on: nodeID, networks: snapshot.networks,
                                       takenNames: Set(snapshot.services.map(\.name)))
        let created = try await createService(spec, oneOff: ServiceObject.OneOff(nodeID: nodeID), in: snapshot)
        return OneOffCreated(id: created.id, name: spec.name)
    }

    /// Removes a one-off of node `nodeID`; any other service is refused (that is `service rm`'s).
    public func removeOneOff(_ reference: String, of nodeID: String) async throws {
        try await retryingOutOfSequence {
            let service = try Self.resolveService(reference, in: manager.store.snapshot.services)
            guard service.oneOff?.nodeID == nodeID else {
                throw SwarmError("service \(service.name) is not a one-off of this node: remove it with shoal service rm", kind: .conflict)
            }
            _ = try await manager.propose([.delete(.service, id: service.meta.id, expectedVersion: service.meta.version)])
        }
    }

    /// The service a one-off is, checked as docker checks `docker run --network`; the first problem is the error.
    static func oneOffSpec(_ request: OneOffRequest, on nodeID: String, networks: [NetworkObject], takenNames: Set<String>,
                           random: (Int) -> Int = { Int.random(in: 0..<$0) }) throws(SwarmError) -> ServiceSpecRequest {
        let network: NetworkObject
        do {
            network = try resolveNetwork(request.network, in: networks)
        } catch {
            throw SwarmError("network \(request.network) not found: see shoal network ls", kind: .notFound)
        }
        guard network.attachable, !network.ingress else {
            // docker's words, from its manager's refusal.
            throw SwarmError("Could not attach to network \(request.network): rpc error: code = PermissionDenied desc = network \(request.network) not manually attachable",
                             kind: .conflict)
        }
        for entry in request.env {
            let key = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            guard entry.contains("="), !key.isEmpty else {
                throw SwarmError("invalid environment variable \"\(entry.prefix(64))\": use -e KEY=VALUE")
            }
        }
        let name: String
        if let asked = request.name {
            guard ObjectName.isValid(asked) else { throw SwarmError(ObjectName.problem(asked, kind: "one-off")) }
            guard !takenNames.contains(asked) else {
                throw SwarmError("the name \(asked) is already in use by a service: choose another --name, or remove it first",
                                 kind: .conflict)
            }
            name = asked
        } else {
            name = OneOff.generatedName(taken: takenNames, random: random)
        }
        return ServiceSpecRequest(name: name, replicas: 1, command: OneOff.holderCommand, env: request.env,
                                  constraints: ["node.id==\(nodeID)"], restartCondition: RestartPolicy.Condition.none.rawValue,
                                  networks: [network.meta.id], endpointMode: EndpointMode.dnsrr.rawValue)
    }
}
