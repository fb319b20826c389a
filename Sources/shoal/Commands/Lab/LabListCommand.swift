#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Lab

struct LabListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the nodes of every lab on this machine."
    )

    @OptionGroup var format: FormatOption

    func run() throws {
        let labs = Lab.all()
        if format.isJSON { return try printJSON(labs) }
        print(Self.table(labs))
    }

    static func table(_ labs: [LabState]) -> String {
        var table = Table(headers: ["NAME", "ADDRESS", "PID", "SOCKET"])
        for node in labs.flatMap(\.nodes) {
            let running = node.pid.map { kill($0, 0) == 0 } ?? false
            table.rows.append([node.name, node.address.description,
                               running ? node.pid.map(String.init) ?? "-" : "-", node.socketPath])
        }
        return table.render()
    }
}
