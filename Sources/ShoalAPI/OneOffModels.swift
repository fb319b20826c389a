/// `shoal run`: the one-off the daemon makes for it, a service of one task on
/// the asking node, attached to `network`. The daemon checks everything; the
/// node is the one whose daemon was asked (never the client's word).
public struct OneOffRequest: Codable, Equatable, Sendable {
    /// `--name`; nil: the daemon picks a free docker-style name.
    public var name: String?
    /// `--network`: an attachable overlay network's name or id.
    public var network: String
    /// `-e KEY=VALUE`.
    public var env: [String]

    public init(name: String? = nil, network: String, env: [String] = []) {
        self.name = name
        self.network = network
        self.env = env
    }
}

/// The one-off made: its service's id and name (its task is `<name>.1`).
public struct OneOffCreated: Codable, Equatable, Sendable {
    public var id: String
    public var name: String
    public init(id: String, name: String) { (self.id, self.name) = (id, name) }
}

public enum OneOff {
    /// The label `service inspect` shows on a one-off: the node whose `shoal run` owns it.
    public static let nodeLabel = "shoal.run.node"

    /// The local API's calls for one-offs; a worker's daemon hands them to a
    /// manager, which puts the asking node in the query (`nodeQuery`).
    public static let createPath = "/oneoffs/create"
    public static let removePath = "/oneoffs/remove"
    public static let nodeQuery = "node"

    /// What the task runs while `shoal run` execs the user's command in it: it only waits.
    public static let holderCommand = ["sleep", "infinity"]

    /// How long `shoal run` waits for its task to run before it gives up.
    public static let startTimeoutSeconds = 60.0

    /// The status `shoal run` exits with for a `waitpid` status: the command's, or 128 + the signal that killed it (a shell's habit).
    public static func exitStatus(waitStatus: Int32) -> Int32 {
        let signal = waitStatus & 0x7f
        return signal == 0 ? (waitStatus >> 8) & 0xff : 128 + signal
    }

    /// The command as `task-exec` runs it: `shoal` is `executable` (this binary) when no directory of the
    /// task's `PATH` (its environment has one: the agent sets it) has one, as the agent runs a task's `shoal`.
    public static func command(_ command: [String], environment: [String], executable: String,
                               isExecutable: (String) -> Bool) -> [String] {
        guard command.first == "shoal" else { return command }
        let path = environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? ""
        if path.split(separator: ":").contains(where: { isExecutable("\($0)/shoal") }) { return command }
        return [executable] + command.dropFirst()
    }

    /// A docker-style name (`adjective_surname`), or with a number when every plain one is taken;
    /// `random` picks among the candidates, so tests can fix it.
    public static func generatedName(taken: Set<String>, random: (Int) -> Int = { Int.random(in: 0..<$0) }) -> String {
        let count = adjectives.count * surnames.count
        let start = random(count)
        for suffix in [""] + (2...9).map(String.init) {
            for offset in 0..<count {
                let index = (start + offset) % count
                let name = "\(adjectives[index / surnames.count])_\(surnames[index % surnames.count])\(suffix)"
                if !taken.contains(name) { return name }
            }
        }
        // Every plain and numbered name taken: the swarm's limit on services is far below that.
        return "oneoff_\(random(1 << 30))"
    }

    /// A few of docker's names-generator words.
    static let adjectives = [
        "admiring", "affectionate", "agitated", "amazing", "awesome", "blissful", "bold", "brave", "charming", "clever",
        "compassionate", "competent", "confident", "cool", "dazzling", "determined", "eager", "ecstatic", "elastic", "elegant",
        "epic", "festive", "focused", "friendly", "gallant", "gifted", "goofy", "happy", "hopeful", "jolly", "keen", "kind",
        "laughing", "loving", "lucid", "modest", "nice", "nifty", "optimistic", "peaceful", "priceless", "quirky", "relaxed",
        "serene", "sharp", "stoic", "tender", "trusting", "vibrant", "wizardly", "youthful", "zealous",
    ]
    static let surnames = [
        "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bell", "bohr", "booth", "brattain", "cerf",
        "curie", "darwin", "dijkstra", "einstein", "euclid", "euler", "fermat", "feynman", "galileo", "gauss", "hamilton",
        "hopper", "hypatia", "johnson", "kalam", "kepler", "knuth", "lamport", "liskov", "lovelace", "mccarthy", "meitner",
        "newton", "noether", "pascal", "pike", "ritchie", "shannon", "thompson", "torvalds", "turing", "wozniak", "yonath",
    ]
}
