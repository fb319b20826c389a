#if canImport(Glibc)
import Glibc
#endif
import CShoalSystem
import NIOConcurrencyHelpers
import Netlink
import ShoalAPI

/// Starts task processes and learns when they end, on one thread of its own
/// that lives as long as the daemon. Every child is spawned from that thread
/// and sets its parent-death signal, so when the daemon dies, however it
/// dies, its tasks die with it. Exits are seen through pid file descriptors.
final class ProcessSupervisor: Sendable {
    /// A running child; signals go through its pidfd, so a reused pid is never hit.
    final class Child: Sendable {
        let pid: pid_t
        private let pidfd: Int32

        init(pid: pid_t, pidfd: Int32) {
            self.pid = pid
            self.pidfd = pidfd
        }

        deinit { close(pidfd) }

        func signal(_ number: Int32) { _ = shoal_pidfd_send_signal(pidfd, number) }
    }

    struct Launch: Sendable {
        var executable: String
        var arguments: [String]
        var environment: [String]
        /// Child fd number → the parent's fd to put there.
        var descriptors: [Int32: Int32]
        /// Where the child's stdout and stderr go, through a pipe this thread drains.
        var output: RotatingLog?
    }

    private struct Request: Sendable {
        var launch: Launch
        var started: @Sendable (Result<Child, SystemError>) -> Void
        var exited: @Sendable (_ status: Int32) -> Void
    }

    private struct Watched {
        var pid: pid_t
        var exited: @Sendable (Int32) -> Void
    }

    /// How much of a task's output is copied per wake-up, so one chatty task cannot starve the others.
    private static let outputChunkBytes = 64 * 1024

    private let requests = NIOLockedValueBox<[Request]>([])
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard shoal_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else { throw SystemError.errno("create the supervisor's wake pipe") }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<ProcessSupervisor>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<ProcessSupervisor>.fromOpaque(context).release()
            throw SystemError.errno("start the supervisor thread", rc)
        }
        pthread_detach(thread)
    }

    /// Starts `launch`; `exited` gets its exit status (128+N when signal N ended it).
    func spawn(_ launch: Launch, exited: @escaping @Sendable (Int32) -> Void) async throws -> Child {
        try await withCheckedThrowingContinuation { continuation in
            requests.withLockedValue {
                $0.append(Request(launch: launch, started: { continuation.resume(with: $0) }, exited: exited))
            }
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    private func run() {
        var watched: [Int32: Watched] = [:]
        var outputs: [Int32: RotatingLog] = [:]
        var chunk = [UInt8](repeating: 0, count: Self.outputChunkBytes)
        while true {
            var polled = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
                + watched.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                + outputs.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&polled, nfds_t(polled.count), -1) >= 0 || errno == EINTR else { continue }
            var drain = [UInt8](repeating: 0, count: 64)
            while read(wakeRead, &drain, drain.count) > 0 {}
            for request in requests.withLockedValue({ pending in defer { pending = [] }; return pending }) {
                switch Self.start(request.launch) {
                case .success(let (pid, pidfd, outputRead)):
                    let handle = fcntl(pidfd, F_DUPFD_CLOEXEC, 0)
                    watched[pidfd] = Watched(pid: pid, exited: request.exited)
                    if let outputRead, let log = request.launch.output { outputs[outputRead] = log }
                    request.started(.success(Child(pid: pid, pidfd: handle)))
                case .failure(let error):
                    request.started(.failure(error))
                }
            }
            for entry in polled.dropFirst() where entry.revents != 0 {
                if let log = outputs[entry.fd] {
                    let count = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                    if count > 0 {
                        log.append(Array(chunk[..<count]))
                    } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                        close(entry.fd)  // every writer is gone
                        outputs[entry.fd] = nil
                    }
                    continue
                }
                guard let child = watched[entry.fd] else { continue }
                var status: Int32 = 0
                guard waitpid(child.pid, &status, WNOHANG) == child.pid else { continue }
                close(entry.fd)
                watched[entry.fd] = nil
                child.exited(Self.exitCode(status))
            }
        }
    }

    /// Spawns the child; returns its pid, a pidfd, and the read end of its output pipe.
    private static func start(_ launch: Launch) -> Result<(pid_t, Int32, Int32?), SystemError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pipe: [Int32] = [-1, -1]
        if launch.output != nil {
            guard shoal_pipe2(&pipe, O_CLOEXEC) == 0 else { return .failure(.errno("create a task's output pipe")) }
            _ = fcntl(pipe[0], F_SETFL, fcntl(pipe[0], F_GETFL) | O_NONBLOCK)
            posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
            posix_spawn_file_actions_adddup2(&actions, pipe[1], 2)
        }
        // The child has its copy of the write end; the parent's would keep end of file from ever coming.
        defer { if pipe[1] >= 0 { close(pipe[1]) } }
        for (target, source) in launch.descriptors.sorted(by: { $0.key < $1.key }) {
            posix_spawn_file_actions_adddup2(&actions, source, target)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = launch.arguments.map { strdup($0) } + [nil]
        let envp = launch.environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, launch.executable, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            if pipe[0] >= 0 { close(pipe[0]) }
            return .failure(.errno("start \(launch.executable)", rc))
        }
        let pidfd = shoal_pidfd_open(pid)
        guard pidfd >= 0 else {
            if pipe[0] >= 0 { close(pipe[0]) }
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            return .failure(.errno("watch process \(pid)"))
        }
        return .success((pid, pidfd, pipe[0] >= 0 ? pipe[0] : nil))
    }

    /// The shell's convention: the exit code, or 128+N for signal N.
    static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
