#if canImport(Glibc)
import Glibc
#endif
import CShoalSystem
import ShoalAPI
import Testing
@testable import Agent

/// docker's default seccomp profile as shoal compiles it, run through a
/// classic BPF interpreter; the confinement's and task-init's command lines.
struct SandboxTests {
    /// The actions a filter returns.
    enum Verdict: Equatable { case allow, errno(Int32), other(UInt32) }

    /// Runs `program` on one syscall as the kernel would (the subset of classic BPF seccomp filters use).
    static func run(_ program: [shoal_bpf_instruction], number: Int32, arch: UInt32 = shoal_seccomp_native_arch(),
                    arguments: [UInt64] = []) -> Verdict {
        var data = [UInt8](repeating: 0, count: 64)
        func store(_ value: UInt32, at offset: Int) { for i in 0..<4 { data[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) } }
        store(UInt32(bitPattern: number), at: 0)
        store(arch, at: 4)
        for (index, argument) in arguments.enumerated() {
            store(UInt32(truncatingIfNeeded: argument), at: 16 + 8 * index)
            store(UInt32(truncatingIfNeeded: argument >> 32), at: 20 + 8 * index)
        }
        var accumulator: UInt32 = 0
        var pc = 0
        while pc < program.count {
            let instruction = program[pc]
            let k = instruction.k
            switch Int32(instruction.code) {
            case 0x20:  // BPF_LD | BPF_W | BPF_ABS
                accumulator = (0..<4).reduce(0) { $0 | UInt32(data[Int(k) + $1]) << (8 * UInt32($1)) }
                pc += 1
            case 0x06:  // BPF_RET | BPF_K
                if k == 0x7fff_0000 { return .allow }
                if k & 0xffff_0000 == 0x0005_0000 { return .errno(Int32(k & 0xffff)) }
                return .other(k)
            default:
                let taken: Bool
                switch Int32(instruction.code) {
                case 0x15: taken = accumulator == k      // BPF_JMP | BPF_JEQ | BPF_K
                case 0x25: taken = accumulator > k       // BPF_JGT
                case 0x35: taken = accumulator >= k      // BPF_JGE
                case 0x45: taken = accumulator & k != 0  // BPF_JSET
                default:
                    Issue.record("unexpected instruction \(instruction.code) at \(pc)")
                    return .other(0)
                }
                pc += 1 + Int(taken ? instruction.jt : instruction.jf)
            }
        }
        Issue.record("the program ran off its end")
        return .other(0)
    }

    static func filter(_ capabilities: UInt64) throws -> [shoal_bpf_instruction] {
        var program = [shoal_bpf_instruction](repeating: shoal_bpf_instruction(), count: Int(SHOAL_SECCOMP_MAX_INSTRUCTIONS))
        let count = Int(shoal_seccomp_filter(capabilities, &program, Int32(program.count)))
        try #require(count > 0)
        return Array(program.prefix(count))
    }

    static func number(_ name: String) throws -> Int32 {
        let number = shoal_syscall_number(name)
        try #require(number >= 0, "\(name) is known")
        return number
    }

    static let standard = Capabilities.mask(adding: [], dropping: [])
    static let withAdmin = Capabilities.mask(adding: ["CAP_SYS_ADMIN"], dropping: [])

    @Test func dockersDefaultCapabilitiesAreItsMask() {
        #expect(Self.standard == 0xa804_25fb)
        #expect(Self.withAdmin == 0xa804_25fb | 1 << 21)
        #expect(Capabilities.mask(adding: ["CAP_SYS_ADMIN"], dropping: ["CAP_NET_RAW"]) == (0xa804_25fb | 1 << 21) & ~(1 << 13))
        #expect(Capabilities.mask(adding: ["CAP_NET_RAW"], dropping: ["ALL"]) == 1 << 13)
        #expect(Capabilities.mask(adding: ["ALL"], dropping: ["CAP_SYS_ADMIN"]) == ((1 << 41) - 1) & ~(1 << 21))
    }

    @Test(arguments: [("net_admin", "CAP_NET_ADMIN"), ("CAP_SYS_ADMIN", "CAP_SYS_ADMIN"), ("Sys_Ptrace", "CAP_SYS_PTRACE"),
                      ("all", "ALL"), ("cap_bpf", "CAP_BPF")])
    func capabilityNamesAreDockers(name: String, normalized: String) {
        #expect(Capabilities.normalize(name) == normalized)
    }

    @Test(arguments: ["", "CAP_", "NET-ADMIN", "CAP_ALL", "SYS_ADMINX", "CAP_CAP_CHOWN"])
    func unknownCapabilitiesAreRefusedInOneLine(name: String) throws {
        #expect(Capabilities.normalize(name) == nil)
        let error = try #require(throws: ShoalError.self) { try Capabilities.normalize([name], option: "--cap-add") }
        #expect(!error.message.contains("\n") && error.message.contains("--cap-add"))
    }

    @Test func ordinarySyscallsAreAllowedAndPrivilegedOnesRefusedWithEPERM() throws {
        let program = try Self.filter(Self.standard)
        for name in ["read", "write", "openat", "execve", "exit_group", "futex", "mmap", "chroot", "ptrace"] {
            #expect(Self.run(program, number: try Self.number(name)) == .allow, "\(name)")
        }
        for name in ["mount", "umount2", "unshare", "setns", "keyctl", "add_key", "pivot_root", "bpf", "reboot",
                     "init_module", "io_uring_setup", "open_by_handle_at"] {
            #expect(Self.run(program, number: try Self.number(name)) == .errno(EPERM), "\(name)")
        }
        #expect(Self.run(program, number: 9999) == .errno(EPERM), "an unknown number")
        #expect(program.count < 512, "the filter stays small: \(program.count) instructions")
    }

    @Test func anotherArchitecturesCallsAreRefused() throws {
        let program = try Self.filter(Self.standard)
        #expect(Self.run(program, number: try Self.number("read"), arch: 0x4000_0003) == .errno(EPERM), "i386")
        #if arch(x86_64)
        #expect(Self.run(program, number: try Self.number("read") | 0x4000_0000) == .errno(EPERM), "x32")
        #endif
    }

    @Test func cloneMayNotMakeNamespacesWithoutSysAdmin() throws {
        let clone = try Self.number("clone")
        let program = try Self.filter(Self.standard)
        let forkFlags = UInt64(SIGCHLD) | 0x0120_0000  // CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID
        #expect(Self.run(program, number: clone, arguments: [forkFlags]) == .allow)
        #expect(Self.run(program, number: clone, arguments: [0x0001_0f00]) == .allow, "a thread")
        for flag: UInt64 in [0x1000_0000, 0x2000_0000, 0x4000_0000, 0x0002_0000, 0x0400_0000, 0x0800_0000, 0x0200_0000] {
            #expect(Self.run(program, number: clone, arguments: [forkFlags | flag]) == .errno(EPERM), "flag \(flag)")
        }
        #expect(Self.run(program, number: try Self.number("clone3")) == .errno(ENOSYS), "so libc falls back to clone")

        let admin = try Self.filter(Self.withAdmin)
        #expect(Self.run(admin, number: clone, arguments: [forkFlags | 0x1000_0000]) == .allow)
        #expect(Self.run(admin, number: try Self.number("clone3")) == .allow)
        for name in ["mount", "unshare", "setns", "umount2"] {
            #expect(Self.run(admin, number: try Self.number(name)) == .allow, "\(name) with SYS_ADMIN")
        }
        #expect(Self.run(admin, number: try Self.number("keyctl")) == .errno(EPERM), "not in the profile at all")
    }

    @Test func socketRefusesOnlyAFALGAndAFVSOCK() throws {
        let program = try Self.filter(Self.standard)
        let socket = try Self.number("socket")
        for family: UInt64 in [1, 2, 10, 16, 17, 37, 39, 41, 45] {
            #expect(Self.run(program, number: socket, arguments: [family, 1, 0]) == .allow, "family \(family)")
        }
        for family: UInt64 in [38, 40, 0xffff_ffff_0000_0028] {
            #expect(Self.run(program, number: socket, arguments: [family, 1, 0]) == .errno(EPERM), "family \(family)")
        }
    }

    @Test func personalityTakesOnlyDockersValues() throws {
        let program = try Self.filter(Self.standard)
        let personality = try Self.number("personality")
        for value: UInt64 in [0, 8, 0x20000, 0x20008, 0xffff_ffff] {
            #expect(Self.run(program, number: personality, arguments: [value]) == .allow, "\(value)")
        }
        for value: UInt64 in [1, 0x0040_0000, 0x0004_0000] {
            #expect(Self.run(program, number: personality, arguments: [value]) == .errno(EPERM), "\(value)")
        }
    }

    @Test func capabilitiesOpenTheSyscallsDockerTiesToThem() throws {
        let ptrace = Capabilities.mask(adding: ["CAP_SYS_PTRACE", "CAP_SYS_TIME"], dropping: [])
        let program = try Self.filter(ptrace)
        #expect(Self.run(program, number: try Self.number("kcmp")) == .allow)
        #expect(Self.run(program, number: try Self.number("settimeofday")) == .allow)
        #expect(Self.run(try Self.filter(Self.standard), number: try Self.number("kcmp")) == .errno(EPERM))
        let noChroot = Capabilities.mask(adding: [], dropping: ["CAP_SYS_CHROOT"])
        #expect(Self.run(try Self.filter(noChroot), number: try Self.number("chroot")) == .errno(EPERM))
    }

    @Test func aSmallBufferLearnsTheSizeItNeeds() {
        var small = [shoal_bpf_instruction](repeating: shoal_bpf_instruction(), count: 4)
        let needed = shoal_seccomp_filter(Self.standard, &small, 4)
        #expect(needed < -4)
    }

    @Test func confinementOptionsRoundTrip() throws {
        let options = TaskInit.Options(hostname: "abc", program: "/bin/sh", workdir: "/srv", resolvConf: "/d/resolv.conf",
                                       hostnameFile: "/d/hostname", covers: ["/var/lib/shoal", "/run/shoal"],
                                       confinement: try Confinement(capabilityAdd: ["CAP_SYS_ADMIN"], capabilityDrop: [],
                                                                    securityOptions: [SecurityOptions.seccompUnconfined]),
                                       command: ["sh", "-c", "echo --cover"])
        #expect(options.arguments.contains("--capabilities") && options.arguments.contains("unconfined"))
        #expect(try TaskInit.Options.parse(Array(options.arguments.dropFirst())) == options)
        var standard = options
        standard.confinement = .standard
        #expect(!standard.arguments.contains("--capabilities"), "the default needs no options")
        #expect(try TaskInit.Options.parse(Array(standard.arguments.dropFirst())) == standard)
    }

    @Test(arguments: [
        ["--hostname", "h", "--program", "/bin/sh", "--capabilities", "ff", "--", "sh"],
        ["--hostname", "h", "--program", "/bin/sh", "--seccomp", "off", "--", "sh"],
        ["--hostname", "h", "--program", "/bin/sh", "--cover", "--", "sh"],
        ["--hostname", "h", "--", "sh"],
    ])
    func taskInitRefusesBadOptions(arguments: [String]) {
        #expect(throws: ShoalError.self) { try TaskInit.Options.parse(arguments) }
    }

    @Test func theDaemonsStateIsCoveredButNeverASharedDirectory() {
        #expect(TaskAgent.daemonPaths(dataDirectory: "/var/lib/shoal", socketPath: "/run/shoal/shoal.sock",
                                      labRoot: "/var/lib/shoal-lab") == ["/var/lib/shoal-lab", "/var/lib/shoal", "/run/shoal"])
        #expect(TaskAgent.daemonPaths(dataDirectory: "/tmp/d", socketPath: "/tmp/d.sock", labRoot: "/tmp/lab")
                == ["/tmp/d.sock", "/tmp/lab", "/tmp/d"], "a socket in /tmp is covered alone")
        #expect(TaskAgent.daemonPaths(dataDirectory: "/srv/n1/data", socketPath: "/srv/n1/shoal.sock", labRoot: "/srv")
                == ["/srv/n1/data", "/srv/n1", "/srv"])
    }

    @Test func theDaemonsStateIsCoveredWhereverABindShowsIt() {
        let daemon = ["/var/lib/shoal", "/run/shoal"]
        func covers(_ mounts: [TaskMount]) -> [String] { TaskAgent.covers(daemon, under: mounts, resolving: { $0 }) }
        #expect(covers([]) == daemon)
        #expect(covers([TaskMount(kind: .bind, source: "/", target: "/host")])
                == daemon + ["/host/var/lib/shoal", "/host/run/shoal"])
        #expect(covers([TaskMount(kind: .bind, source: "/var/lib", target: "/data/")]) == daemon + ["/data/shoal"])
        #expect(covers([TaskMount(kind: .bind, source: "/var/lib/shoal/swarm", target: "/keys")]) == daemon + ["/keys"])
        #expect(covers([TaskMount(kind: .bind, source: "/var/lib/shoal-other", target: "/x"),
                        TaskMount(kind: .tmpfs, target: "/var")]) == daemon, "a sibling with a common prefix shows nothing")
        let linked = TaskAgent.covers(daemon, under: [TaskMount(kind: .bind, source: "/link", target: "/l")],
                                      resolving: { $0 == "/link" ? "/var/lib" : $0 })
        #expect(linked == daemon + ["/l/shoal"], "a source is compared where its links lead")
    }
}
