#if canImport(Glibc)
import Glibc
#endif
import ClusterWire
import FoundationEssentials
import Raft
import RaftStorage
import ShoalAPI

/// `init --force-new-cluster`: a manager that lost its quorum goes on
/// alone, keeping every node, service and setting it had.
extension ManagerRuntime {
    /// Stops this runtime, replaces its Raft log with a snapshot of
    /// everything it applied whose only voter is itself, and returns the
    /// runtime `restart` starts on it (it elects itself within ticks: see `waitForLeadership`).
    public func forceNewCluster(dataDirectory: String,
                                restart: @Sendable (NodeIdentity) async throws -> ManagerRuntime) async throws -> ManagerRuntime {
        let identity = self.identity
        let snapshot = store.encodedSnapshot()
        let applied = host.currentStatus.appliedIndex
        await stop()
        try Self.rewriteAsSingleMember(identity: identity, dataDirectory: dataDirectory, storeSnapshot: snapshot,
                                       appliedIndex: applied)
        return try await restart(identity)
    }

    /// The new log: a snapshot in a term above any the old cluster reached.
    /// The old log is kept beside it.
    static func rewriteAsSingleMember(identity: NodeIdentity, dataDirectory: String, storeSnapshot: [UInt8],
                                      appliedIndex: UInt64) throws {
        let directory = raftDirectory(in: dataDirectory)
        let (_, recovered) = try WAL.open(directory: directory, fileSystem: PosixFileSystem())
        let term = max(recovered.hardState.term, 1)
        let kept = "\(directory).before-force-new-cluster"
        FileSystem.removeTree(kept)
        guard rename(directory, kept) == 0 else {
            throw SwarmError("cannot set the old raft log aside at \(kept): errno \(errno)", kind: .failed)
        }
        let (wal, _) = try WAL.open(directory: directory, fileSystem: PosixFileSystem())
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: appliedIndex, term: term,
                                                           conf: ConfState(voters: [identity.raftID])),
                                data: storeSnapshot)
        try wal.saveSnapshot(snapshot)
        try wal.save(hardState: HardState(term: term + 1, vote: 0, commit: appliedIndex), entries: [])
    }
}
