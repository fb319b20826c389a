#if canImport(Glibc)
import Glibc
#endif

/// Starts `shoal daemon` in the background — detached in a session of its
/// own, stdio to a log file — and waits until it answers on its socket.
/// `shoal init`, `shoal join` and `shoal lab up` use it when no daemon runs.
public struct DaemonLauncher: Sendable {
    /// The full command line to spawn; its first element is an absolute path.
    public var arguments: [String]
    public var socketPath: String
    public var logPath: String
    public var timeoutSeconds: Double = Defaults.daemonStartTimeoutSeconds

    public init(arguments: [String], socketPath: String, logPath: String) {
        self.arguments = arguments
        self.socketPath = socketPath
        self.logPath = logPath
    }

    /// The path of the running shoal binary, to re-execute it.
    public static func currentExecutable() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { throw ShoalError("cannot find the shoal binary: /proc is not mounted") }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Spawns the daemon and returns its pid once `/_ping` answers.
    public func start() throws -> pid_t {
        let pid = try spawn()
        let client = APIClient(socketPath: socketPath)
        let deadline = Monotonic.now + timeoutSeconds
        while Monotonic.now < deadline {
            if client.ping() { return pid }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw ShoalError("the daemon exited during start-up",
                                 hint: "see \(logPath) for why")
            }
            usleep(20_000)
        }
        kill(pid, SIGTERM)
        throw ShoalError("the daemon did not answer on \(socketPath) within \(Int(timeoutSeconds)) s",
                         hint: "see \(logPath) for why")
    }

    /// POSIX_SPAWN_SETSID (glibc ≥ 2.26), which Swift's Glibc module hides.
    private static let spawnNewSession: Int32 = 0x80

    private func spawn() throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A session of its own: the daemon outlives the terminal that started it.
        posix_spawnattr_setflags(&attributes, Int16(Self.spawnNewSession | POSIX_SPAWN_SETSIGMASK))
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)

        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard rc == 0 else {
            throw ShoalError("cannot start \(arguments[0]): \(String(cString: strerror(rc)))",
                             hint: "check that the binary exists and is executable")
        }
        return pid
    }
}

/// Seconds on the monotonic clock.
public enum Monotonic {
    public static var now: Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
