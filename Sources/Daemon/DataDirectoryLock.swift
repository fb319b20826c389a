#if canImport(Glibc)
import Glibc
#endif
import ShoalAPI

/// An exclusive lock on a data dir, so two daemons never share one.
struct DataDirectoryLock {
    private let fd: Int32

    init(directory: String) throws {
        let path = directory + "/lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ShoalError("cannot open \(path): \(String(cString: strerror(errno)))",
                             hint: "run the daemon as root")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ShoalError("another shoal daemon is using \(directory)",
                             hint: "stop it first, or give this one another --data-dir")
        }
    }

    func release() { close(fd) }
}
