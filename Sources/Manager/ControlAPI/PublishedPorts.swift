import ClusterStore
import ClusterWire
import ShoalAPI

/// `--publish`, `--publish-add` and `--publish-rm`: which ports a service
/// publishes, checked against every other service's as docker checks them.
extension ControlAPI {
    /// The ports `requests` ask service `serviceID` to publish, each with its
    /// published port decided (an ingress port given none gets the lowest free
    /// one of docker's range). Refused: a value out of range, a port given
    /// twice, an ingress port another service publishes, ingress with dnsrr.
    static func publishedPorts(_ requests: [PortConfig], service serviceID: String, endpointMode: EndpointMode,
                               among services: [ServiceObject]) throws(SwarmError) -> [PublishedPort] {
        guard Limits.portsPerService.contains(requests.count) else {
            throw SwarmError("a service publishes \(Limits.portsPerService.upperBound) ports at most, not \(requests.count)")
        }
        let others = services.filter { $0.meta.id != serviceID }
        var ports: [PublishedPort] = []
        for request in requests {
            if let problem = request.problem { throw SwarmError("invalid published port: \(problem)") }
            guard let proto = PublishedPort.TransportProtocol(rawValue: request.protocol),
                  let mode = PublishedPort.Mode(rawValue: request.publishMode) else { continue }
            if mode == .ingress, endpointMode == .dnsrr {
                throw SwarmError("port published with ingress mode can't be used with dnsrr mode: publish it with mode=host, or use --endpoint-mode vip")
            }
            let taken = Set((others.flatMap(\.ports) + ports).filter { $0.protocol == proto }.map { Int($0.published) })
            guard let published = request.publishedPort ?? PortConfig.automaticRange.first(where: { !taken.contains($0) }) else {
                throw SwarmError("no free port left in \(PortConfig.automaticRange) for \(request.targetPort)/\(proto.rawValue): give --publish PUBLISHED:TARGET")
            }
            if ports.contains(where: { $0.protocol == proto && Int($0.published) == published }) {
                throw SwarmError("port \(published)/\(proto.rawValue) is published twice: give each published port once")
            }
            if let owner = others.first(where: { $0.ports.contains { $0.protocol == proto && Int($0.published) == published } }) {
                throw SwarmError("port '\(published)' is already in use by service '\(owner.name)' (\(owner.meta.id)) as an ingress port",
                                 kind: .conflict)
            }
            ports.append(PublishedPort(protocol: proto, target: UInt16(request.targetPort), published: UInt16(published), mode: mode))
        }
        return ports
    }

    /// A service's ports as `--publish` would give them.
    static func portConfigs(_ ports: [PublishedPort]) -> [PortConfig] {
        ports.map { PortConfig(protocol: $0.protocol.rawValue, targetPort: Int($0.target), publishedPort: Int($0.published),
                               publishMode: $0.mode.rawValue) }
    }

    /// `networks` with the ingress network last when some port goes through the routing mesh, and without it otherwise.
    static func attachingIngress(_ networks: [String], ports: [PublishedPort], in store: Store) throws(SwarmError) -> [String] {
        let ingress = store.networks.first(where: \.ingress)
        let user = networks.filter { $0 != ingress?.meta.id }
        guard ports.contains(where: { $0.mode == .ingress }) else { return user }
        guard let ingress else {
            throw SwarmError("the swarm has no ingress network for the routing mesh: publish with mode=host instead")
        }
        return user + [ingress.meta.id]
    }
}
