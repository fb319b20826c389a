#if canImport(Glibc)
import Glibc
#endif
import ShoalAPI

/// Finds and stops processes by the namespaces they live in, so a lab's
/// teardown also reaches whatever its daemons started.
enum ProcessTable {
    /// Pids of processes whose network or UTS namespace is one of `identities`.
    static func processes(inNamespaces identities: Set<UInt64>) -> [Int32] {
        guard !identities.isEmpty, let proc = opendir("/proc") else { return [] }
        defer { closedir(proc) }
        var pids: [Int32] = []
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), pid != getpid() else { continue }
            for kind in ["net", "uts"] {
                var info = stat()
                if stat("/proc/\(pid)/ns/\(kind)", &info) == 0, identities.contains(UInt64(info.st_ino)) {
                    pids.append(pid)
                    break
                }
            }
        }
        return pids
    }

    /// SIGTERM, up to `graceSeconds` for them to exit, then SIGKILL.
    static func terminate(_ pids: [Int32], graceSeconds: Double) {
        guard !pids.isEmpty else { return }
        pids.forEach { kill($0, SIGTERM) }
        var deadline = 0.0
        while deadline < graceSeconds, pids.contains(where: isAlive) {
            usleep(50_000)
            deadline += 0.05
        }
        pids.filter(isAlive).forEach { kill($0, SIGKILL) }
        while pids.contains(where: isAlive) { usleep(20_000) }
    }

    /// Alive and not a zombie (a zombie of ours is reaped here).
    static func isAlive(_ pid: Int32) -> Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        guard kill(pid, 0) == 0 else { return false }
        guard let bytes = FileSystem.read("/proc/\(pid)/stat") else { return false }
        let line = String(decoding: bytes, as: UTF8.self)
        guard let nameEnd = line.lastIndex(of: ")") else { return false }
        let state = line[nameEnd...].dropFirst(2).first
        return state != "Z" && state != "X"
    }
}
