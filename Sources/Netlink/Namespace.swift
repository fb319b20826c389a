#if canImport(Glibc)
import Glibc
#endif
import CShoalSystem

/// Linux namespaces kept alive as bind mounts on plain files, the way
/// `ip netns` does under /run/netns — but wherever the caller chooses, so that
/// several daemons (a lab) can share one machine without touching /run/netns.
public enum Namespace {
    public enum Kind: Sendable {
        case network, uts

        var cloneFlag: Int32 {
            switch self {
            case .network: SHOAL_CLONE_NEWNET
            case .uts: SHOAL_CLONE_NEWUTS
            }
        }
    }

    /// Creates a new namespace and pins it at `path` (a file created here).
    /// For a UTS namespace, `hostname` becomes its host name.
    public static func create(_ kind: Kind, at path: String, hostname: String? = nil) throws {
        let fd = open(path, O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0o444)
        guard fd >= 0 else { throw SystemError.errno("create namespace file \(path)") }
        close(fd)
        let rc = shoal_create_namespace(kind.cloneFlag, path, hostname)
        guard rc == 0 else {
            unlink(path)
            throw SystemError.errno("create namespace at \(path)", -rc)
        }
    }

    /// Unpins the namespace at `path` and removes the file. The namespace
    /// itself ends once no process is left in it. Missing files are fine.
    public static func remove(at path: String) throws {
        if shoal_umount2(path, SHOAL_MNT_DETACH) != 0, errno != EINVAL, errno != ENOENT {
            throw SystemError.errno("unmount namespace \(path)")
        }
        if unlink(path) != 0, errno != ENOENT {
            throw SystemError.errno("remove namespace file \(path)")
        }
    }

    /// The inode number that identifies the namespace pinned at `path`
    /// (what /proc/PID/ns/net of every process inside it also shows).
    public static func identity(at path: String) throws -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemError.errno("stat \(path)") }
        return UInt64(info.st_ino)
    }

    /// Whether `path` is a pinned namespace rather than an ordinary file.
    public static func isPinned(at path: String) -> Bool {
        shoal_is_namespace_file(path) == 1
    }

    /// Moves the calling thread into the namespace at `path`. Only safe right
    /// before `execve` or in a process that has a single thread.
    public static func enter(_ kind: Kind, at path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.errno("open namespace \(path)") }
        defer { close(fd) }
        guard shoal_setns(fd, kind.cloneFlag) == 0 else {
            throw SystemError.errno("enter namespace \(path)")
        }
    }

    /// Runs `body` on a thread of its own inside the network namespace pinned
    /// at `path`. Sockets `body` creates belong to that namespace for good.
    public static func run<T>(inNetworkNamespace path: String, _ body: () throws -> T) throws -> T {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.errno("open namespace \(path)") }
        defer { close(fd) }
        return try withoutActuallyEscaping(body) { body in
            var result: Result<T, any Error>?
            let job = NamespaceJob { result = Result { try body() } }
            let rc = shoal_run_in_namespace(fd, SHOAL_CLONE_NEWNET, { context in
                guard let context else { return }
                Unmanaged<NamespaceJob>.fromOpaque(context).takeUnretainedValue().run()
            }, Unmanaged.passUnretained(job).toOpaque())
            guard rc == 0 else { throw SystemError.errno("enter namespace \(path)", -rc) }
            guard let result else {
                throw SystemError("enter namespace \(path)", reason: "the namespace thread did not run")
            }
            return try result.get()
        }
    }
}

/// Carries a closure across the C thread boundary.
private final class NamespaceJob {
    let run: () -> Void

    init(_ run: @escaping () -> Void) { self.run = run }
}

extension Namespace {
    /// Joins the given pinned namespaces and replaces this process with
    /// `arguments` (looked up in PATH). Returns only by throwing.
    public static func execute(_ arguments: [String], network: String?, uts: String?) throws -> Never {
        if let network { try enter(.network, at: network) }
        if let uts { try enter(.uts, at: uts) }
        guard let program = arguments.first else {
            throw SystemError("run a command", reason: "no command given")
        }
        let argv = arguments.map { strdup($0) } + [nil]
        execvp(program, argv)
        throw SystemError.errno("run \(program)")
    }
}
