#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ShoalAPI

/// `shoal completion bash|zsh|fish`: the shell's completion script, as
/// swift-argument-parser generates it from the commands; the names of
/// services, nodes, networks and tasks are completed by asking the daemon.
struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion", abstract: "Print the shell completion script for bash, zsh or fish",
        discussion: """
            bash: source <(shoal completion bash)   (or save it under /etc/bash_completion.d/shoal)
            zsh:  shoal completion zsh > "${fpath[1]}/_shoal"
            fish: shoal completion fish > ~/.config/fish/completions/shoal.fish
            """)

    @Argument(help: ArgumentHelp("The shell.", valueName: "bash|zsh|fish"), completion: .list(CompletionShell.allCases.map(\.rawValue)))
    var shell: String

    func validate() throws {
        guard CompletionShell(rawValue: shell) != nil else {
            throw ValidationError("unknown shell '\(shell)': give bash, zsh or fish")
        }
    }

    func run() {
        guard let shell = CompletionShell(rawValue: shell) else { return }
        print(Shoal.completionScript(for: shell), terminator: "")
    }
}

/// Completions that ask the daemon for names (the one -H/--host on the
/// line being completed, else SHOAL_HOST, else the default socket). A
/// daemon that does not answer within a second completes nothing.
enum NameCompletion {
    static let services = CompletionKind.custom { words, _, prefix in
        names(words, prefix) { try $0.get("/services", as: [ServiceDetail].self).map(\.spec.name) }
    }
    static let nodes = CompletionKind.custom { words, _, prefix in
        names(words, prefix) { try $0.get("/nodes", as: [NodeSummary].self).map(\.hostname) }
    }
    static let networks = CompletionKind.custom { words, _, prefix in
        names(words, prefix) { try $0.get("/networks", as: [NetworkDetail].self).map(\.name) }
    }
    /// Tasks as `shoal exec` takes them, of the tasks meant to run: SERVICE.SLOT (a global service's by full name).
    static let tasks = CompletionKind.custom { words, _, prefix in
        names(words, prefix) { client in
            try client.get("/tasks", as: [TaskSummary].self).filter { $0.desiredState == "running" }.map {
                $0.slot > 0 ? "\($0.serviceName).\($0.slot)" : $0.name
            }
        }
    }

    private static func names(_ words: [String], _ prefix: String, _ list: (APIClient) throws -> [String]) -> [String] {
        var client: APIClient
        do {
            if let host = host(in: words) {
                client = APIClient(socketPath: try HostOption.resolve(host))
            } else {
                client = try HostOption.client()
            }
        } catch {
            return []
        }
        client.timeoutSeconds = 1
        let found = (try? list(client)) ?? []
        return Array(Set(found.filter { $0.hasPrefix(prefix) })).sorted()
    }

    /// The value of -H/--host between `shoal` and its command, as the user typed it.
    private static func host(in words: [String]) -> String? {
        var rest = words.dropFirst()
        while let word = rest.popFirst(), word.hasPrefix("-") {
            if word == "-H" || word == "--host" { return rest.first }
            if word.hasPrefix("--host=") { return String(word.dropFirst("--host=".count)) }
        }
        return nil
    }
}
