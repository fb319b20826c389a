#if canImport(Glibc)
import Glibc
#endif
import Agent
import ArgumentParser
import ShoalAPI

/// Runs a command line and turns every failure into one line on stderr,
/// `shoal: <what went wrong>: <what to do>`, and a non-zero exit status.
@main
enum Main {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == TaskInit.commandName {
            // Still one thread here: task-init unshares namespaces before anything else runs.
            let failure = TaskInit.start(Array(arguments.dropFirst()))
            writeToStandardError("shoal task-init: \(failure)\n")
            exit(TaskInit.failureStatus)
        }
        if arguments.first == TaskExec.commandName {
            // Still one thread here: task-exec joins a task's mount namespace.
            switch TaskExec.run(Array(arguments.dropFirst())) {
            case .success(let status): exit(status)
            case .failure(let error): fail(error.message, exitCode: error.exitCode)
            }
        }
        do {
            try HostOption.extract(from: &arguments)
            var command = try Shoal.parseAsRoot(arguments)
            try command.run()
        } catch let error as ShoalError {
            fail(error.message, exitCode: error.exitCode)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            let exitCode = Shoal.exitCode(for: error)
            if exitCode == .success {
                print(Shoal.fullMessage(for: error))
                exit(0)
            }
            fail(usageMessage(for: error, arguments: arguments), exitCode: exitCode.rawValue)
        }
    }

    static func fail(_ message: String, exitCode: Int32) -> Never {
        writeToStandardError("shoal: \(message)\n")
        exit(exitCode == 0 ? 1 : exitCode)
    }

    /// ArgumentParser's own message, first letter lowercased, on one line,
    /// with a pointer to the help of the command that was meant.
    static func usageMessage(for error: Error, arguments: [String]) -> String {
        var message = Shoal.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
        if let first = message.first { message = first.lowercased() + message.dropFirst() }
        let command = (["shoal"] + commandPath(arguments)).joined(separator: " ")
        return "\(message): see '\(command) --help'"
    }

    /// The subcommand names at the start of `arguments`, e.g. ["lab", "up"].
    static func commandPath(_ arguments: [String]) -> [String] {
        var path: [String] = []
        var current: ParsableCommand.Type = Shoal.self
        for argument in arguments {
            guard let next = current.configuration.subcommands.first(where: {
                $0._commandName == argument || $0.configuration.aliases.contains(argument)
            }) else { break }
            path.append(argument)
            current = next
        }
        return path
    }
}
