/// `GET /tasks/exec?task=REF`: what `shoal exec` needs to enter a task that
/// runs on this node. The daemon only resolves; the CLI (root on the same
/// node) enters the namespaces itself through `shoal task-exec`.
public struct ExecTarget: Codable, Equatable, Sendable {
    public var taskID: String
    /// `<service>.<slot>`, for messages.
    public var name: String
    /// The task's `task-init` process: its namespaces are the task's.
    public var pid: Int32
    /// The inode of that process's network namespace when the daemon looked:
    /// `task-exec` refuses a pid that was reused meanwhile.
    public var netNamespaceInode: UInt64
    public var env: [String]
    public var workdir: String?

    public init(taskID: String, name: String, pid: Int32, netNamespaceInode: UInt64, env: [String], workdir: String?) {
        self.taskID = taskID
        self.name = name
        self.pid = pid
        self.netNamespaceInode = netNamespaceInode
        self.env = env
        self.workdir = workdir
    }
}

/// What names a task on the command line: an id, a unique id prefix, the
/// full name `<service>.<slot>.<id>` or `<service>.<slot>`.
public enum TaskReference {
    /// Service names are letters, digits, '-', '_' and '.'; ids are base 36.
    public static func validate(_ text: String) throws(ShoalError) {
        guard !text.isEmpty, text.utf8.count <= maximumReferenceLength,
              text.utf8.allSatisfy({ isReferenceByte($0) }) else {
            throw ShoalError("invalid task \"\(text.prefix(64))\"",
                             hint: "give a task id, its name, or SERVICE.SLOT (letters, digits, '-', '_' and '.')")
        }
    }

    private static func isReferenceByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."): true
        default: false
        }
    }
}
