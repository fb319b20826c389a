import CShoalSystem
import ClusterStore
import ShoalAPI

/// How a task's processes are confined: the user they run as, the
/// capabilities they keep, and whether docker's default seccomp profile
/// filters their syscalls (with no_new_privs always set). `task-init` applies it to the task's command and
/// `task-exec` to what `shoal exec` runs, both reading it from their command line.
public struct Confinement: Equatable, Sendable {
    public var capabilities: UInt64
    public var seccomp: Bool
    /// nil: root.
    public var user: TaskUser?

    public init(capabilities: UInt64, seccomp: Bool, user: TaskUser? = nil) {
        self.capabilities = capabilities
        self.seccomp = seccomp
        self.user = user
    }

    /// From a service's `--cap-add`, `--cap-drop`, `--security-opt` and `--user`, as the daemon
    /// stored them; a user it could not have stored is the error (never root instead).
    public init(capabilityAdd: [String], capabilityDrop: [String], securityOptions: [String], user: String? = nil) throws(ShoalError) {
        self.init(capabilities: Capabilities.mask(adding: capabilityAdd, dropping: capabilityDrop),
                  seccomp: !securityOptions.contains(SecurityOptions.seccompUnconfined),
                  user: try user.map { text throws(ShoalError) in try TaskUser(parsing: text) })
    }

    init(_ spec: TaskSpec) throws(ShoalError) {
        try self.init(capabilityAdd: spec.capabilityAdd, capabilityDrop: spec.capabilityDrop,
                      securityOptions: spec.securityOptions, user: spec.user)
    }

    /// docker's default: its capability set, its seccomp profile.
    public static let standard = Confinement(capabilities: Capabilities.mask(adding: [], dropping: []), seccomp: true)

    static let capabilitiesOption = "--capabilities"
    static let seccompOption = "--seccomp"
    static let userOption = "--user"

    /// Its options on a `task-init` or `task-exec` command line: none for the standard one.
    var arguments: [String] {
        var arguments = user.map { [Self.userOption, $0.text] } ?? []
        var rest = self
        rest.user = nil
        if rest != .standard {
            arguments += [Self.capabilitiesOption, "0x" + String(capabilities, radix: 16), Self.seccompOption,
                          seccomp ? "default" : "unconfined"]
        }
        return arguments
    }

    /// Takes `option` with its `value` if it is one of the confinement's: true
    /// then, false when it is some other option; a bad value is the error.
    mutating func read(_ option: String, _ value: String) throws(ShoalError) -> Bool {
        switch option {
        case Self.capabilitiesOption:
            guard value.hasPrefix("0x"), let mask = UInt64(value.dropFirst(2), radix: 16) else {
                throw ShoalError("\(option) takes a hexadecimal mask, not \(value.prefix(32))")
            }
            capabilities = mask
        case Self.seccompOption:
            guard ["default", "unconfined"].contains(value) else {
                throw ShoalError("\(option) takes default or unconfined, not \(value.prefix(32))")
            }
            seccomp = value == "default"
        case Self.userOption:
            user = try TaskUser(parsing: value)
        default:
            return false
        }
        return true
    }

    var system: shoal_confinement {
        shoal_confinement(capabilities: capabilities, seccomp: seccomp ? 1 : 0, switch_user: user == nil ? 0 : 1,
                          uid: user?.uid ?? 0, gid: user.map { $0.gid ?? $0.uid } ?? 0)
    }
}
