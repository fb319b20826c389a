/// The /etc/resolv.conf a task sees, as docker writes it for a container on
/// a user-defined network: the host's search domains and options, the
/// embedded server as the only nameserver, and `ndots:0` so a service name
/// is asked as it is, not with a search domain first.
public enum TaskResolvConf {
    public static func text(hostResolvConf: String) -> String {
        var lines: [String] = []
        for line in hostResolvConf.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = fields.first else { continue }
            switch keyword {
            case "search", "domain":
                lines.append(fields.joined(separator: " "))
            case "options":
                let options = fields.dropFirst().filter { !$0.hasPrefix("ndots:") }
                if !options.isEmpty { lines.append((["options"] + options).joined(separator: " ")) }
            default:
                continue
            }
        }
        lines.append("nameserver \(ListeningSockets.address)")
        lines.append("options ndots:0")
        return lines.joined(separator: "\n") + "\n"
    }
}
