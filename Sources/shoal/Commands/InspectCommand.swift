import ArgumentParser
import ShoalAPI

/// `docker inspect NAME|ID…`: a network, node, service or task by id, unique
/// id prefix or name, looked up in docker's order unless `--type` says which.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Display detailed information on nodes, services, tasks or networks.")
    @Option(help: ArgumentHelp("Only look for this type of object: network, node, service or task.", valueName: "type"))
    var type: ObjectType?
    @OptionGroup var format: InspectFormatOption
    @Argument(help: "Names, ids or unique id prefixes; a task also by its full name or SERVICE.SLOT.") var objects: [String]

    enum ObjectType: String, CaseIterable, ExpressibleByArgument {
        case network, node, service, task
    }

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        let types = type.map { [$0] } ?? ObjectType.allCases
        try printInspected(objects, format: format) { reference -> AnyEncodable in
            for type in types {
                do {
                    return try fetch(type, reference, client)
                } catch let error as ShoalError where types.count > 1 && error.isNotFound {
                    continue
                }
            }
            throw ShoalError("no such object: \(reference)", hint: "see shoal service ls, shoal node ls, shoal network ls")
        }
    }

    private func fetch(_ type: ObjectType, _ reference: String, _ client: APIClient) throws -> AnyEncodable {
        switch type {
        case .network:
            return AnyEncodable(try client.post("/networks/inspect", NetworkReferenceRequest(network: reference)) as NetworkDetail)
        case .node:
            return AnyEncodable(DockerNode(try client.post("/nodes/inspect", NodeChangeRequest(node: reference))))
        case .service:
            return AnyEncodable(DockerService(try client.post("/services/inspect", ServiceReferenceRequest(service: reference))))
        case .task:
            try TaskReference.validate(reference)
            return AnyEncodable(try client.get("/tasks/inspect", query: ["task": reference]) as TaskDetail)
        }
    }
}

/// Objects of different types in one `inspect` answer.
struct AnyEncodable: Encodable {
    private let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}

extension ShoalError {
    /// Whether the daemon said no object goes by that reference ("no such service: x",
    /// "node x not found"), as against any other failure, which `inspect` reports at once.
    var isNotFound: Bool { message.hasPrefix("no such ") || message.contains(" not found") }
}
