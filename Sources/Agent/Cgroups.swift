#if canImport(Glibc)
import Glibc
#endif
import Netlink
import ShoalAPI

/// Where a node's tasks get their cgroups, and what goes into their files:
/// one directory per task under a parent of the node's own, in the unified
/// hierarchy (cgroup v2) or in each of the memory, cpu and pids hierarchies
/// (cgroup v1) when the host mounts those. What is written where is decided
/// here without I/O; `CgroupTree` does the writing.
struct CgroupLayout: Equatable, Sendable {
    enum Controller: String, CaseIterable, Sendable { case memory, cpu, pids }

    enum Hierarchy: Equatable, Sendable {
        /// cgroup v2, mounted at this path.
        case unified(String)
        /// cgroup v1: each controller's mount point (one the host lacks is left out).
        case separate([Controller: String])
    }

    let hierarchy: Hierarchy
    /// Relative to each mount point: `shoal/<node key>`.
    let parent: String

    /// The cgroups of a node whose data dir is `dataDirectory`, as the host's
    /// `/proc/self/mountinfo` shows its hierarchies; nil when it has neither.
    /// A v1 memory controller wins over a v2 mount (hybrid hosts mount an
    /// empty unified hierarchy beside the v1 controllers).
    init?(mountinfo: String, dataDirectory: String) {
        var unified: String?
        var separate: [Controller: String] = [:]
        for line in mountinfo.split(separator: "\n") {
            // The optional fields end at a lone "-": the file system's type, source and options follow.
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " ")
            let filesystem = halves[1].split(separator: " ")
            guard fields.count >= 5, filesystem.count >= 3 else { continue }
            let mountPoint = Self.unescaped(String(fields[4]))
            switch filesystem[0] {
            case "cgroup2": unified = unified ?? mountPoint
            case "cgroup":
                let options = Set(filesystem[2].split(separator: ",").map(String.init))
                for controller in Controller.allCases where options.contains(controller.rawValue) {
                    separate[controller] = separate[controller] ?? mountPoint
                }
            default: continue
            }
        }
        if separate[.memory] != nil {
            hierarchy = .separate(separate)
        } else if let unified {
            hierarchy = .unified(unified)
        } else {
            return nil
        }
        parent = "shoal/" + Self.key(dataDirectory)
    }

    init(hierarchy: Hierarchy, dataDirectory: String) {
        self.hierarchy = hierarchy
        parent = "shoal/" + Self.key(dataDirectory)
    }

    /// A data dir as one directory name, as systemd escapes paths: `/var/lib/shoal` → `var-lib-shoal`.
    /// Two daemons never share a data dir, so two lab nodes never share a parent.
    static func key(_ dataDirectory: String) -> String {
        let trimmed = dataDirectory.split(separator: "/").joined(separator: "-")
        let safe = trimmed.map { character -> Character in
            character.isASCII && (character.isLetter || character.isNumber || "-_.".contains(character)) ? character : "_"
        }
        return safe.isEmpty ? "root" : String(safe.prefix(200))
    }

    /// mountinfo writes a space as `\040` (and so on): the path as it is.
    private static func unescaped(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var result = ""
        var rest = Substring(field)
        while let slash = rest.firstIndex(of: "\\") {
            result += rest[..<slash]
            let code = rest[rest.index(after: slash)...].prefix(3)
            if code.count == 3, let value = UInt8(code, radix: 8) {
                result.append(Character(Unicode.Scalar(value)))
                rest = rest[rest.index(slash, offsetBy: 4)...]
            } else {
                result.append("\\")
                rest = rest[rest.index(after: slash)...]
            }
        }
        return result + rest
    }

    /// The node's parent directories: one per hierarchy the tasks join.
    var parents: [String] {
        switch hierarchy {
        case .unified(let mount): ["\(mount)/\(parent)"]
        case .separate(let mounts): Controller.allCases.compactMap { mounts[$0] }.map { "\($0)/\(parent)" }
        }
    }

    /// The task's directories, in the order `parents` has them: what task-init joins.
    func directories(of taskID: String) -> [String] { parents.map { "\($0)/\(taskID)" } }

    /// What must be written once the parents exist, before a task's directories do: on v2 the
    /// controllers enabled for the children of every level, from the root down
    /// to the node's parent (a v2 cgroup offers its children only what its
    /// `cgroup.subtree_control` names).
    var preparation: [(file: String, value: String)] {
        guard case .unified(let mount) = hierarchy else { return [] }
        var levels = [mount]
        for component in parent.split(separator: "/") { levels.append("\(levels[levels.count - 1])/\(component)") }
        return levels.map { ("\($0)/cgroup.subtree_control", "+memory +cpu +pids") }
    }

    /// The CFS period docker uses: the quota is the CPUs' share of it.
    static let cpuPeriodMicroseconds: Int64 = 100_000

    /// The files of a task's cgroups set to `resources`' limits (none for what it leaves unlimited).
    func settings(of taskID: String, for resources: Resources) -> [(file: String, value: String)] {
        let quota: Int64? = resources.limitNanoCPUs > 0
            ? max(1000, resources.limitNanoCPUs * Self.cpuPeriodMicroseconds / Resources.nanoCPUsPerCPU) : nil
        switch hierarchy {
        case .unified(let mount):
            let directory = "\(mount)/\(parent)/\(taskID)"
            var settings: [(file: String, value: String)] = []
            if resources.limitMemoryBytes > 0 { settings.append(("\(directory)/memory.max", "\(resources.limitMemoryBytes)")) }
            if let quota { settings.append(("\(directory)/cpu.max", "\(quota) \(Self.cpuPeriodMicroseconds)")) }
            if resources.limitPids > 0 { settings.append(("\(directory)/pids.max", "\(resources.limitPids)")) }
            return settings
        case .separate(let mounts):
            func file(_ controller: Controller, _ name: String) -> String? {
                mounts[controller].map { "\($0)/\(parent)/\(taskID)/\(name)" }
            }
            var settings: [(file: String?, value: String)] = []
            if resources.limitMemoryBytes > 0 {
                settings.append((file(.memory, "memory.limit_in_bytes"), "\(resources.limitMemoryBytes)"))
            }
            if let quota {
                settings.append((file(.cpu, "cpu.cfs_period_us"), "\(Self.cpuPeriodMicroseconds)"))
                settings.append((file(.cpu, "cpu.cfs_quota_us"), "\(quota)"))
            }
            if resources.limitPids > 0 { settings.append((file(.pids, "pids.max"), "\(resources.limitPids)")) }
            return settings.compactMap { setting in setting.file.map { (file: $0, value: setting.value) } }
        }
    }

    /// The file that counts the task's OOM kills: v2 `memory.events`, v1 `memory.oom_control` (both say `oom_kill N`).
    func oomCounter(of taskID: String) -> String? {
        switch hierarchy {
        case .unified(let mount): "\(mount)/\(parent)/\(taskID)/memory.events"
        case .separate(let mounts): mounts[.memory].map { "\($0)/\(parent)/\(taskID)/memory.oom_control" }
        }
    }

    /// The `oom_kill` count such a file holds (0 when it holds none).
    static func oomKills(in text: String) -> Int {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == "oom_kill", let count = Int(fields[1]) { return count }
        }
        return 0
    }
}

/// A layout's cgroups on this machine: made, set and removed (the I/O of `CgroupLayout`).
struct CgroupTree: Sendable {
    let layout: CgroupLayout

    /// The host's cgroups for a node whose data dir is `dataDirectory`; nil when the host mounts none.
    static func detect(dataDirectory: String) -> CgroupTree? {
        guard let mountinfo = FileSystem.read("/proc/self/mountinfo"),
              let layout = CgroupLayout(mountinfo: String(decoding: mountinfo, as: UTF8.self), dataDirectory: dataDirectory)
        else { return nil }
        return CgroupTree(layout: layout)
    }

    /// Makes the task's cgroups with `resources`' limits; returns the directories task-init joins.
    func create(taskID: String, resources: Resources) throws -> [String] {
        for parent in layout.parents { try FileSystem.makeDirectory(parent, mode: 0o755) }
        for (file, value) in layout.preparation { try Self.writeValue(value, to: file) }
        let directories = layout.directories(of: taskID)
        for directory in directories { try FileSystem.makeDirectory(directory, mode: 0o755) }
        for (file, value) in layout.settings(of: taskID, for: resources) { try Self.writeValue(value, to: file) }
        return directories
    }

    /// Whether the OOM killer ended a process of the task.
    func oomKilled(taskID: String) -> Bool {
        guard let counter = layout.oomCounter(of: taskID), let text = FileSystem.read(counter) else { return false }
        return CgroupLayout.oomKills(in: String(decoding: text, as: UTF8.self)) > 0
    }

    /// Removes the task's cgroups; false while a process is still in one (the kernel refuses then).
    @discardableResult
    func remove(taskID: String) -> Bool {
        layout.directories(of: taskID).allSatisfy { rmdir($0) == 0 || errno == ENOENT }
    }

    /// The tasks that have cgroups under this node's parent.
    func taskIDs() -> Set<String> { Set(layout.parents.flatMap { FileSystem.list($0) }.filter(ObjectID.isValid)) }

    private static func writeValue(_ value: String, to file: String) throws {
        // O_CREAT only matters off a cgroupfs (a test's fake tree): there every file exists with its directory.
        let descriptor = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SystemError.errno("open \(file)") }
        defer { close(descriptor) }
        let bytes = Array(value.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw SystemError.errno("write \(value) to \(file)") }
    }
}

extension CgroupTree {
    /// Moves the calling process into the cgroup at `directory` (its children follow it there):
    /// task-init joins its task's cgroups, task-exec those of the task it enters, as docker exec does.
    static func join(_ directory: String) -> Bool {
        let descriptor = open("\(directory)/cgroup.procs", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        // 0: the writing process, in v1 and v2 alike.
        return write(descriptor, "0", 1) == 1
    }
}
