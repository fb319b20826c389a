#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FoundationEssentials
import ShoalAPI

struct ServiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service", abstract: "Manage services.",
        subcommands: [ServiceCreateCommand.self, ServiceListCommand.self, ServiceTasksCommand.self,
                      ServiceInspectCommand.self, ServiceScaleCommand.self, ServiceUpdateCommand.self,
                      ServiceRemoveCommand.self, ServiceLogsCommand.self])
}

struct ServiceCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a new service.",
        usage: "shoal service create --name NAME [OPTIONS] -- CMD [ARGS...]")

    @Option(help: "Service name.") var name: String
    @Option(help: "Number of tasks (replicated mode).") var replicas: Int?
    @Option(help: "Service mode: replicated or global.") var mode = "replicated"
    @Option(help: "Placement constraint, e.g. node.role==worker (repeatable).") var constraint: [String] = []
    @Option(name: [.customShort("e"), .long], help: "Environment variable KEY=VALUE (repeatable).") var env: [String] = []
    @Option(name: [.customShort("w"), .long], help: "Working directory of the command.") var workdir: String?
    @Option(help: "Restart when a task ends: none, on-failure or any.") var restartCondition = "any"
    @Option(help: "Delay between restarts, e.g. 1s, 500ms, 1m.") var restartDelay = "1s"
    @Option(help: "Restarts before giving up (0: no limit).") var restartMaxAttempts = 0
    @Option(help: "Attach to an overlay network (repeatable: eth0, eth1, … in this order).", completion: NameCompletion.networks)
    var network: [String] = []
    @Option(help: "Endpoint mode: vip (a virtual IP balances over the tasks) or dnsrr (the name resolves to the tasks).")
    var endpointMode = "vip"
    @Option(name: [.customShort("p"), .long], help: ArgumentHelp(
        "Publish a port: PUBLISHED:TARGET[/tcp|udp], or published=P,target=T,protocol=tcp,mode=ingress|host (repeatable).",
        valueName: "port")) var publish: [String] = []
    @Option(help: "Add a Linux capability, e.g. NET_ADMIN, or ALL (repeatable).") var capAdd: [String] = []
    @Option(help: "Drop a Linux capability, e.g. NET_RAW, or ALL (repeatable).") var capDrop: [String] = []
    @Option(help: "Security option: seccomp=unconfined runs the tasks without docker's seccomp profile.")
    var securityOpt: [String] = []
    @Flag(help: "Mount the node's file tree read-only in the tasks, with a writable /tmp.") var readOnly = false
    @Option(help: "A mount: type=bind,source=/path,target=/path[,readonly] or type=tmpfs,target=/path[,tmpfs-size=64m] (repeatable).")
    var mount: [String] = []
    @Option(name: [.customShort("u"), .long], help: "The tasks' user: UID or UID:GID.") var user: String?
    @OptionGroup var health: HealthOptions
    @OptionGroup var resources: ResourceOptions
    @Flag(name: .shortAndLong, help: "Exit immediately instead of waiting for the service to converge.") var detach = false
    @Flag(name: .shortAndLong, help: "Only print the service id.") var quiet = false
    @Argument(parsing: .postTerminator, help: "The command each task runs.") var command: [String] = []

    func run() throws {
        guard ["replicated", "global"].contains(mode) else {
            throw ShoalError("invalid mode \(mode)", hint: "use replicated or global")
        }
        if mode == "global", replicas != nil {
            throw ShoalError("--replicas can only be used with replicated mode", hint: "leave it out for a global service")
        }
        let spec = ServiceSpecRequest(
            name: name, replicas: mode == "global" ? nil : replicas ?? 1, command: command, env: env, workdir: workdir,
            constraints: constraint, restartCondition: restartCondition,
            restartDelaySeconds: try Durations.seconds(restartDelay, option: "--restart-delay"),
            restartMaxAttempts: restartMaxAttempts, networks: network, endpointMode: endpointMode,
            ports: try publish.map { try PortConfig(parsing: $0) }, capabilityAdd: capAdd, capabilityDrop: capDrop,
            securityOptions: securityOpt, readOnly: readOnly, mounts: mount, user: user,
            healthCheck: try HealthCheck.requested(command: health.healthCmd, interval: try health.intervalSeconds,
                                                   timeout: try health.timeoutSeconds, retries: health.healthRetries,
                                                   startPeriod: try health.startPeriodSeconds, disabled: health.noHealthcheck),
            resources: try resources.changes().applied(to: Resources()))
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        let created: ServiceCreated = try client.post("/services/create", spec)
        print(created.id)
        if !detach && !quiet { try ConvergeProgress(client: client, service: created.id).wait() }
    }
}

struct ServiceListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List services.", aliases: ["list"])
    @Flag(name: .shortAndLong, help: "Only display IDs.") var quiet = false
    @Flag(help: "Do not truncate output.") var noTrunc = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Filter output: id, label, mode or name=VALUE (repeatable).", valueName: "filter"))
    var filter: [String] = []
    @OptionGroup var format: ListFormatOption

    func run() throws {
        let filters = try ListFilter(filter, keys: ListFilter.serviceKeys)
        let services = try (SwarmClient.daemon(startingIfNeeded: false).get("/services") as [ServiceDetail]).filter(filters.accepts)
        if quiet { return services.forEach { print($0.id) } }
        let rows = services.map { ServiceRow($0, fullID: noTrunc) }
        try format.print(rows) {
            Table(headers: ["ID", "NAME", "MODE", "REPLICAS", "COMMAND", "PORTS"], rows: rows.map(\.cells)).render()
        }
    }
}

/// `-q`, `--no-trunc`, `-f` and `--format` of `service ps` and `node ps`.
struct TaskListOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Only display task IDs.") var quiet = false
    @Flag(help: "Do not truncate output.") var noTrunc = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Filter output: id, name, node or desired-state=VALUE (repeatable).",
                                                    valueName: "filter"))
    var filter: [String] = []
    @OptionGroup var format: ListFormatOption

    /// Fetches the tasks of each query and prints those the filters accept.
    func printTasks(_ client: APIClient, queries: [[String: String]]) throws {
        let filters = try ListFilter(filter, keys: ListFilter.taskKeys)
        var tasks: [TaskSummary] = []
        for query in queries { tasks += try client.get("/tasks", query: query) }
        let rows = TaskFormatting.taskRows(tasks.filter(filters.accepts), now: Date(), untruncated: noTrunc)
        if quiet { return rows.forEach { print($0.id) } }
        try format.print(rows) { Table(headers: TaskFormatting.psHeaders, rows: rows.map(\.cells)).render() }
    }
}

struct ServiceTasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List the tasks of one or more services.")
    @OptionGroup var options: TaskListOptions
    @Argument(help: "Service names or ids.", completion: NameCompletion.services) var services: [String]

    func run() throws {
        try options.printTasks(SwarmClient.daemon(startingIfNeeded: false), queries: services.map { ["service": $0] })
    }
}

struct ServiceInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more services.")
    @Flag(help: "Print the information in a human friendly format.") var pretty = false
    @OptionGroup var format: InspectFormatOption
    @Argument(help: "Service names or ids.", completion: NameCompletion.services) var services: [String]

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        let fetch = { (service: String) throws -> ServiceDetail in
            try client.post("/services/inspect", ServiceReferenceRequest(service: service))
        }
        guard pretty else { return try printInspected(services, format: format) { DockerService(try fetch($0)) } }
        let details = try services.map(fetch)
        for detail in details {
            let spec = detail.spec
            var lines = ["ID:             \(detail.id)", "Name:           \(spec.name)"]
            if let replicas = spec.replicas {
                lines += ["Service Mode:   Replicated", " Replicas:      \(replicas)"]
            } else {
                lines += ["Service Mode:   Global"]
            }
            if !spec.constraints.isEmpty {
                lines += ["Placement:", " Constraints:   [\(spec.constraints.joined(separator: " "))]"]
            }
            lines += ["UpdateConfig:", " Parallelism:   1", " On failure:    pause",
                      "RestartPolicy:", " Condition:     \(spec.restartCondition)",
                      " Delay:         \(Durations.text(spec.restartDelaySeconds))",
                      " Max attempts:  \(spec.restartMaxAttempts)",
                      "Command:        \(TaskFormatting.commandLine(spec.command))"]
            if !spec.env.isEmpty { lines += ["Env:            \(spec.env.joined(separator: " "))"] }
            if let workdir = spec.workdir { lines += ["Dir:            \(workdir)"] }
            lines += ["Endpoint Mode:  \(spec.endpointMode)"]
            if !spec.ports.isEmpty {
                lines += ["Ports:"] + spec.ports.flatMap { port in
                    [" PublishedPort = \(port.publishedPort.map(String.init) ?? "")", "  Protocol = \(port.protocol)",
                     "  TargetPort = \(port.targetPort)", "  PublishMode = \(port.publishMode)"]
                }
            }
            if !spec.capabilityAdd.isEmpty || !spec.capabilityDrop.isEmpty {
                lines += ["Capabilities:"]
                if !spec.capabilityAdd.isEmpty { lines += [" Add: \(spec.capabilityAdd.joined(separator: ", "))"] }
                if !spec.capabilityDrop.isEmpty { lines += [" Drop: \(spec.capabilityDrop.joined(separator: ", "))"] }
            }
            if !spec.securityOptions.isEmpty { lines += ["Security options: \(spec.securityOptions.joined(separator: " "))"] }
            if let user = spec.user { lines += ["User:           \(user)"] }
            if spec.readOnly { lines += ["Read only:      true"] }
            if !spec.mounts.isEmpty { lines += ["Mounts:"] + spec.mounts.map { " \($0)" } }
            lines += spec.resources.prettyLines
            if let check = spec.healthCheck {
                // docker's section, under the ports: its test is CMD-SHELL and the command.
                lines += [" Healthcheck:", "  Interval = \(Durations.text(check.intervalSeconds))", "  Retries = \(check.retries)",
                          "  StartPeriod =\t\(Durations.text(check.startPeriodSeconds))",
                          "  Timeout =\t\(Durations.text(check.timeoutSeconds))",
                          "  Tests:", "\t Test = CMD-SHELL", "\t Test = \(check.command)"]
            }
            print(lines.joined(separator: "\n"))
        }
    }
}

struct ServiceScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scale", abstract: "Scale one or more replicated services.")
    @Flag(name: .shortAndLong, help: "Exit immediately instead of waiting for the services to converge.") var detach = false
    @Argument(help: "SERVICE=REPLICAS pairs.", completion: NameCompletion.services) var scales: [String]

    func run() throws {
        // Every pair is checked before anything changes.
        let pairs = try scales.map { pair -> (String, Int) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ShoalError("invalid scale specifier '\(pair)'", hint: "use SERVICE=REPLICAS, e.g. web=3")
            }
            guard let replicas = Int(parts[1]), replicas >= 0 else {
                throw ShoalError("invalid replicas value \(parts[1]) in '\(pair)'", hint: "use a whole number, 0 or more")
            }
            return (String(parts[0]), replicas)
        }
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        for (service, replicas) in pairs {
            let updated: ServiceCreated = try client.post("/services/update", ServiceUpdateRequest(service: service, replicas: replicas))
            print("\(service) scaled to \(replicas)")
            if !detach { try ConvergeProgress(client: client, service: updated.id).wait() }
        }
    }
}

struct ServiceUpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Update a service; its tasks are replaced one at a time.",
        usage: "shoal service update [OPTIONS] SERVICE [-- CMD [ARGS...]]")
    @Option(help: "Number of tasks.") var replicas: Int?
    @Option(help: "Add or update an environment variable (repeatable).") var envAdd: [String] = []
    @Option(help: "Remove an environment variable (repeatable).") var envRm: [String] = []
    @Option(help: "Add a placement constraint (repeatable).") var constraintAdd: [String] = []
    @Option(help: "Remove a placement constraint (repeatable).") var constraintRm: [String] = []
    @Option(help: "Attach to an overlay network (repeatable).", completion: NameCompletion.networks) var networkAdd: [String] = []
    @Option(help: "Detach from an overlay network (repeatable).", completion: NameCompletion.networks) var networkRm: [String] = []
    @Option(help: "Endpoint mode: vip or dnsrr.") var endpointMode: String?
    @Option(help: ArgumentHelp("Add or update a published port (repeatable).", valueName: "port")) var publishAdd: [String] = []
    @Option(help: ArgumentHelp("Remove a published port: by its target port, e.g. 80 or 53/udp, or as published, e.g. 8080:80 (repeatable).",
                               valueName: "port"))
    var publishRm: [String] = []
    @Option(help: "Add a Linux capability, e.g. NET_ADMIN, or ALL (repeatable).") var capAdd: [String] = []
    @Option(help: "Drop a Linux capability, e.g. NET_RAW, or ALL (repeatable).") var capDrop: [String] = []
    @OptionGroup var health: HealthOptions
    @Flag(inversion: .prefixedNo, help: "Mount the node's file tree read-only in the tasks (with a writable /tmp), or no longer.")
    var readOnly: Bool?
    @Option(help: "Add or replace a mount, docker's long syntax as --mount takes it (repeatable).") var mountAdd: [String] = []
    @Option(help: "Remove a mount by its target path (repeatable).") var mountRm: [String] = []
    @Option(name: [.customShort("u"), .long], help: "The tasks' user: UID or UID:GID.") var user: String?
    @OptionGroup var resources: ResourceOptions
    @Flag(name: .shortAndLong, help: "Exit immediately instead of waiting for the service to converge.") var detach = false
    @Argument(help: "Service name or id.", completion: NameCompletion.services) var service: String
    @Argument(parsing: .postTerminator, help: "A new command for the tasks.") var command: [String] = []

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        let updated: ServiceCreated = try client.post("/services/update", ServiceUpdateRequest(
            service: service, replicas: replicas, command: command.isEmpty ? nil : command, envAdd: envAdd,
            envRemove: envRm, constraintAdd: constraintAdd, constraintRemove: constraintRm, networkAdd: networkAdd,
            networkRemove: networkRm, endpointMode: endpointMode, publishAdd: try publishAdd.map { try PortConfig(parsing: $0) },
            publishRemove: publishRm, capabilityAdd: capAdd, capabilityDrop: capDrop, readOnly: readOnly, mountAdd: mountAdd,
            mountRemove: mountRm, user: user, resources: try resources.changes(), healthCommand: health.healthCmd,
            healthIntervalSeconds: try health.intervalSeconds, healthTimeoutSeconds: try health.timeoutSeconds,
            healthRetries: health.healthRetries, healthStartPeriodSeconds: try health.startPeriodSeconds,
            noHealthCheck: health.noHealthcheck ? true : nil))
        print(service)
        if !detach { try ConvergeProgress(client: client, service: updated.id).wait() }
    }
}

/// docker's health check options, on `service create` and `service update`.
struct HealthOptions: ParsableArguments {
    @Option(help: "Command to run to check health, in the task with /bin/sh -c.") var healthCmd: String?
    @Option(help: "Time between running the check (ms|s|m|h) (default 30s).") var healthInterval: String?
    @Option(help: "Maximum time to allow one check to run (ms|s|m|h) (default 30s).") var healthTimeout: String?
    @Option(help: "Consecutive failures needed to report unhealthy (default 3).") var healthRetries: Int?
    @Option(help: "Start period for the task to initialize before counting retries towards unstable (ms|s|m|h) (default 0s).")
    var healthStartPeriod: String?
    @Flag(help: "Disable any container-specified HEALTHCHECK.") var noHealthcheck = false

    var intervalSeconds: Double? { get throws { try healthInterval.map { try Durations.seconds($0, option: "--health-interval") } } }
    var timeoutSeconds: Double? { get throws { try healthTimeout.map { try Durations.seconds($0, option: "--health-timeout") } } }
    var startPeriodSeconds: Double? {
        get throws { try healthStartPeriod.map { try Durations.seconds($0, option: "--health-start-period") } }
    }
}

struct ServiceRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more services.", aliases: ["remove"])
    @Argument(help: "Service names or ids.", completion: NameCompletion.services) var services: [String]

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        for service in services {
            let _: MessageResponse = try client.post("/services/remove", ServiceReferenceRequest(service: service))
            print(service)
        }
    }
}

struct ServiceLogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Fetch the output of a service or task.")
    @Flag(name: .shortAndLong, help: "Follow the output.") var follow = false
    @Option(help: "Number of lines to show from the end of each task's output.") var tail: Int?
    @Flag(help: "Only the lines, without the task and node.") var raw = false
    @Argument(help: "Service name or id, or a task id.", completion: NameCompletion.services) var target: String

    func run() throws {
        let client = try SwarmClient.daemon(startingIfNeeded: false)
        var answer: LogsResponse = try client.post("/services/logs", LogsRequest(target: target, tail: tail))
        while true {
            TaskFormatting.logLines(answer.lines, raw: raw).forEach { print($0) }
            fflush(nil)
            // Answers are bounded: what is already there comes in several.
            if answer.more != true {
                guard follow else { return }
                usleep(500_000)
            }
            answer = try client.post("/services/logs", LogsRequest(target: target, cursor: answer.cursor))
        }
    }
}

/// docker's `--limit-cpu`, `--limit-memory`, `--limit-pids`, `--reserve-cpu` and `--reserve-memory`.
struct ResourceOptions: ParsableArguments {
    @Option(help: "Limit the CPUs of each task, e.g. 0.5.") var limitCpu: String?
    @Option(help: "Limit the memory of each task, e.g. 32M or 1g (the OOM killer ends a task above it).") var limitMemory: String?
    @Option(help: "Limit the processes of each task (0: no limit).") var limitPids: Int64?
    @Option(help: "Reserve CPUs for each task on its node, e.g. 0.5.") var reserveCpu: String?
    @Option(help: "Reserve memory for each task on its node, e.g. 1g.") var reserveMemory: String?

    func changes() throws(ShoalError) -> ResourceChanges {
        ResourceChanges(limitNanoCPUs: try limitCpu.map { text throws(ShoalError) in try ResourceUnits.nanoCPUs(text, option: "--limit-cpu") },
                        limitMemoryBytes: try limitMemory.map { text throws(ShoalError) in
                            try ResourceUnits.memoryBytes(text, option: "--limit-memory")
                        },
                        limitPids: limitPids,
                        reservedNanoCPUs: try reserveCpu.map { text throws(ShoalError) in
                            try ResourceUnits.nanoCPUs(text, option: "--reserve-cpu")
                        },
                        reservedMemoryBytes: try reserveMemory.map { text throws(ShoalError) in
                            try ResourceUnits.memoryBytes(text, option: "--reserve-memory")
                        })
    }
}
