/// Linux capabilities as docker names them for `--cap-add` and `--cap-drop`,
/// and the set a task keeps.
public enum Capabilities {
    /// Every capability, by number (CAP_CHOWN is 0), without the CAP_ prefix.
    public static let all = [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
        "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
        "CHECKPOINT_RESTORE",
    ].map { "CAP_" + $0 }

    /// What docker gives a container: every set holds these, and only these.
    public static let dockerDefault = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ]

    /// `--cap-add ALL` / `--cap-drop ALL`.
    public static let allKeyword = "ALL"

    /// A name as docker takes it (any case, with or without CAP_) as docker
    /// stores it: `CAP_NET_ADMIN`, or `ALL`; nil when it names no capability.
    public static func normalize(_ name: String) -> String? {
        let upper = name.uppercased()
        if upper == allKeyword { return allKeyword }
        let full = upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
        return all.contains(full) ? full : nil
    }

    /// Every name normalized, duplicates dropped; the first unknown one is the error.
    public static func normalize(_ names: [String], option: String) throws(ShoalError) -> [String] {
        var result: [String] = []
        for name in names {
            guard let normalized = normalize(name) else {
                throw ShoalError("invalid capability \"\(name.prefix(64))\" for \(option)",
                                 hint: "use a name such as NET_ADMIN or CAP_NET_ADMIN, or ALL")
            }
            if !result.contains(normalized) { result.append(normalized) }
        }
        return result
    }

    /// The capabilities a task keeps (bit N: capability N), as docker
    /// combines its default set with `--cap-add` and `--cap-drop`: ALL added
    /// is every capability but those dropped; ALL dropped leaves only those
    /// added; otherwise the default, less those dropped, plus those added.
    /// Names must be normalized; an unknown one counts for nothing.
    public static func mask(adding added: [String], dropping dropped: [String]) -> UInt64 {
        let names: [String] = if added.contains(allKeyword) {
            all.filter { !dropped.contains($0) }
        } else if dropped.contains(allKeyword) {
            added
        } else {
            dockerDefault.filter { !dropped.contains($0) } + added
        }
        return names.reduce(0) { mask, name in
            guard let number = all.firstIndex(of: name) else { return mask }
            return mask | (1 << UInt64(number))
        }
    }
}

/// `--security-opt`: what shoal takes of docker's options.
public enum SecurityOptions {
    /// docker's opt-out of its default seccomp profile.
    public static let seccompUnconfined = "seccomp=unconfined"

    /// The first option shoal does not take is the error.
    public static func validate(_ options: [String]) throws(ShoalError) {
        for option in options where option != seccompUnconfined {
            throw ShoalError("unsupported security option \"\(option.prefix(64))\"", hint: "shoal takes \(seccompUnconfined)")
        }
    }
}
