#if canImport(Glibc)
import Glibc
#endif
import Addressing
import ArgumentParser
import DNS
import NameServer
import ShoalAPI

/// `shoal dig`: ISC dig's query and output, asked from where a task asks —
/// inside a task's network namespace when `--task` or `--network` names one.
struct DigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dig", abstract: "Look up a name in the swarm's DNS, printed as ISC dig prints it.",
        usage: "shoal dig [@SERVER] [-p PORT] [-t TYPE | TYPE] [-x ADDR] NAME [+short] [+tcp] [--network NET | --task TASK]",
        discussion: """
            Without @SERVER the query goes to 127.0.0.11, the DNS server of every task. --task TASK sends it from inside \
            that task of this node, --network NET from inside a task of this node attached to NET, so the answer is the \
            one a task there gets. Without either, it is sent from where shoal dig runs (inside a task, through shoal exec).
            """)

    @Option(help: "Ask from inside a task of this node attached to this network.", completion: NameCompletion.networks) var network: String?
    @Option(help: "Ask from inside this task of this node.", completion: NameCompletion.tasks) var task: String?
    @Argument(parsing: .captureForPassthrough, help: "dig's arguments.") var words: [String] = []

    func run() throws {
        var words = words
        let network = try extract("--network", from: &words) ?? self.network
        let task = try extract("--task", from: &words) ?? self.task
        if network != nil && task != nil { throw ShoalError("--network and --task cannot be combined", hint: "give one of them") }
        let request: DigRequest
        do {
            request = try DigRequest(arguments: words)
        } catch {
            throw ShoalError(error.description)
        }
        let server = request.server ?? "127.0.0.11"
        guard let address = IPv4Address(server) else {
            throw ShoalError("invalid server \(server)", hint: "give @SERVER as an IPv4 address, e.g. @127.0.0.11")
        }
        var namespace: String?
        if network != nil || task != nil {
            let query = network.map { ["network": $0] } ?? ["task": task ?? ""]
            if let task { try TaskReference.validate(task) }
            let target: ExecTarget = try SwarmClient.daemon(startingIfNeeded: false).get("/tasks/exec", query: query)
            namespace = "/proc/\(target.pid)/ns/net"
        }
        let transport: DNSTransport = request.tcp ? .tcp : .udp
        let query = request.queryMessage(id: UInt16.random(in: .min ... .max))
        let started = ContinuousClock.now
        let replyBytes: [UInt8]
        do {
            replyBytes = try QueryClient.exchange(query.serialized(), server: address,
                                                  port: request.port, over: transport, inNetworkNamespace: namespace)
        } catch let failure as QueryClient.Failure {
            print(failure.description)
            throw ExitCode(9)  // dig's status when no reply came
        }
        guard let reply = try? DNSMessage(parsing: replyBytes) else {
            print(";; Got bad packet: \(replyBytes.count) bytes from \(address)#\(request.port)")
            throw ExitCode(9)
        }
        let exchange = DigExchange(arguments: words, version: Defaults.version, serverGiven: request.server != nil,
                                   query: query, reply: reply, replySize: replyBytes.count, elapsedMilliseconds: Self.milliseconds(since: started),
                                   server: address.description, port: request.port, transport: transport, date: Self.now())
        print(request.short ? exchange.shortText : exchange.text, terminator: "")
    }

    /// Takes `--flag VALUE` (or `--flag=VALUE`) out of dig's words, where the user put it after the name.
    private func extract(_ flag: String, from words: inout [String]) throws -> String? {
        guard let index = words.firstIndex(where: { $0 == flag || $0.hasPrefix(flag + "=") }) else { return nil }
        if words[index].hasPrefix(flag + "=") { return String(words.remove(at: index).dropFirst(flag.count + 1)) }
        guard index + 1 < words.count else { throw ShoalError("\(flag) needs a value", hint: "e.g. \(flag) NAME") }
        let value = words[index + 1]
        words.removeSubrange(index...index + 1)
        return value
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let elapsed = (ContinuousClock.now - start).components
        return Int(elapsed.seconds) * 1000 + Int(elapsed.attoseconds / 1_000_000_000_000_000)
    }

    /// dig's WHEN: "Mon Nov 30 07:33:11 UTC 2026", in local time.
    private static func now() -> String {
        var seconds = time(nil)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a %b %d %H:%M:%S %Z %Y", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
