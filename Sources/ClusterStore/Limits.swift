import FoundationEssentials

/// Bounds that keep every write replicable: a Raft entry, and the append
/// message that carries it, must fit in one transport frame (16 MiB) with a
/// margin; so must a node's assignments (every task placed on it, each with a
/// copy of its spec), even when one node runs them all; and the whole store
/// must stay small enough to snapshot and send.
public enum StoreLimits {
    /// Replicas of one service (docker has no bound; 50,000 tasks in one pass wedged the log).
    public static let maximumReplicas = 10_000
    /// Tasks all services together may ask for (a global service counts one per node):
    /// about 450 bytes each without their spec, in one node's assignments at worst.
    public static let maximumDesiredTasks = 12_000
    /// One task spec (command, environment, constraints, …), JSON-encoded.
    public static let maximumSpecBytes = 64 << 10
    /// Every desired task carries a copy of its spec: their total, encoded.
    public static let maximumDesiredSpecBytes = 6 << 20
    /// Writes in one proposal of the leader's task loop, and their encoded bytes (at least one write).
    public static let maximumBatchWrites = 200
    public static let maximumBatchBytes = 1 << 20

    /// `writes` in order, cut into batches of at most `maximumWrites` writes
    /// and `maximumBytes` encoded bytes (a single larger write goes alone).
    public static func batches(_ writes: [Write], maximumWrites: Int = maximumBatchWrites,
                               maximumBytes: Int = maximumBatchBytes) -> [[Write]] {
        let encoder = JSONEncoder()
        var batches: [[Write]] = []
        var current: [Write] = []
        var currentBytes = 0
        for write in writes {
            let bytes = (try? encoder.encode(write).count) ?? 0
            if !current.isEmpty && (current.count >= maximumWrites || currentBytes + bytes > maximumBytes) {
                batches.append(current)
                (current, currentBytes) = ([], 0)
            }
            current.append(write)
            currentBytes += bytes
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }
}
