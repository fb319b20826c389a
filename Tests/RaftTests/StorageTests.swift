import Testing
@testable import Raft
@testable import RaftStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private let dir = "/data"

private func payload(_ index: UInt64, _ term: UInt64) -> [UInt8] {
    [UInt8](repeating: UInt8(truncatingIfNeeded: index &* 31 &+ term), count: 40)
}

/// What the storage has acknowledged (calls that returned), as a model to check recovery against.
private struct Acknowledged {
    var hardState = HardState()
    var baseIndex: UInt64 = 0
    var entries: [UInt64: Entry] = [:]
    var lastIndex: UInt64 = 0

    mutating func append(_ new: [Entry]) {
        guard let first = new.first?.index else { return }
        for index in first...max(first, lastIndex) { entries[index] = nil }
        for entry in new { entries[entry.index] = entry }
        lastIndex = new.last!.index
    }

    mutating func snapshot(_ meta: SnapshotMetadata, retains: Bool) {
        baseIndex = meta.index
        if retains {
            entries = entries.filter { $0.key > meta.index }
        } else {
            entries = [:]
            lastIndex = meta.index
        }
        lastIndex = max(lastIndex, meta.index)
    }
}

/// A deterministic workload of storage calls: votes in rising terms, appends, truncations,
/// local compactions and an installed snapshot, over small segments so files rotate and get
/// deleted. Stops at the first error and returns the model of what was acknowledged and the
/// first index the failed call would have replaced.
private func runWorkload(_ fs: InMemoryFileSystem) -> (Acknowledged, failedFrom: UInt64?, completed: Bool) {
    var ack = Acknowledged()
    let wal: WAL
    do {
        (wal, _) = try WAL.open(directory: dir, fileSystem: fs, segmentSize: 600)
    } catch {
        return (ack, nil, false)
    }
    for round in UInt64(1)...14 {
        // A vote in a new term.
        let vote = HardState(term: round, vote: round % 3 + 1, commit: ack.hardState.commit)
        do { try wal.save(hardState: vote, entries: []) } catch { return (ack, nil, false) }
        ack.hardState = vote
        // Entries: normally three new ones; every fourth round replaces the last two.
        let start = round % 4 == 0 && ack.lastIndex > ack.baseIndex + 2 ? ack.lastIndex - 1 : ack.lastIndex + 1
        let new = (start..<(start + 3)).map { Entry(term: round, index: $0, data: payload($0, round)) }
        let commit = max(ack.hardState.commit, start > 2 ? start - 2 : 0)
        let state = HardState(term: round, vote: vote.vote, commit: commit)
        do { try wal.save(hardState: state, entries: new) } catch { return (ack, start, false) }
        ack.append(new)
        ack.hardState = state
        if round % 5 == 0, commit > ack.baseIndex, let term = ack.entries[commit]?.term {
            // Local compaction at the commit index.
            let snap = Snapshot(metadata: SnapshotMetadata(index: commit, term: term, conf: ConfState(voters: [1, 2, 3])),
                                data: [UInt8](repeating: 9, count: 30))
            do {
                try wal.saveSnapshot(snap)
                ack.snapshot(snap.metadata, retains: true)
                try wal.compact()
            } catch { return (ack, nil, false) }
        }
        if round == 11 {
            // A snapshot from a leader that replaces the whole log.
            let meta = SnapshotMetadata(index: ack.lastIndex + 5, term: round, conf: ConfState(voters: [1, 2, 3]))
            do { try wal.saveSnapshot(Snapshot(metadata: meta, data: [1, 2, 3])) } catch { return (ack, ack.baseIndex + 1, false) }
            ack.snapshot(meta, retains: false)
            let hs = HardState(term: round, vote: vote.vote, commit: meta.index)
            do { try wal.save(hardState: hs, entries: []) } catch { return (ack, nil, false) }
            ack.hardState = hs
        }
    }
    return (ack, nil, true)
}

@Suite("Storage: WAL and crash points")
struct StorageTests {
    @Test("the WAL round-trips hard state, entries, truncations and snapshots across reopen")
    func roundTrip() throws {
        let fs = InMemoryFileSystem()
        let (ack, _, completed) = runWorkload(fs)
        #expect(completed)
        let (_, recovered) = try WAL.open(directory: dir, fileSystem: fs)
        #expect(recovered.hardState == ack.hardState)
        #expect(recovered.snapshot?.metadata.index == ack.baseIndex)
        #expect(recovered.entries == ack.entries.keys.sorted().map { ack.entries[$0]! })
        #expect(try fs.listDirectory(dir).filter { $0.hasSuffix(".wal") }.count < 10, "old segments were deleted")
    }

    @Test("crash at every write and fsync (with and without a torn last write): nothing acknowledged is lost, no vote is forgotten")
    func crashAtEveryPoint() throws {
        let probe = InMemoryFileSystem()
        _ = runWorkload(probe)
        let operations = probe.operationCount
        #expect(operations > 50)
        for point in 1...operations {
            for torn in [0, 5, 23, 10_000] {
                let fs = InMemoryFileSystem()
                fs.failAtOperation = point
                let (ack, failedFrom, completed) = runWorkload(fs)
                #expect(!completed)
                let image = fs.crashImage(unsyncedBytesKept: torn)
                let recovered: RecoveredState
                do {
                    (_, recovered) = try WAL.open(directory: dir, fileSystem: image, segmentSize: 600)
                } catch {
                    Issue.record("crash at operation \(point) torn \(torn): recovery failed: \(error)")
                    continue
                }
                let hs = recovered.hardState
                // No node votes twice in a term: the acknowledged term and vote survive.
                #expect(hs.term > ack.hardState.term || (hs.term == ack.hardState.term && hs.vote == ack.hardState.vote),
                        "point \(point) torn \(torn): recovered \(hs), acknowledged \(ack.hardState)")
                // The commit index is not fsync'd on its own (Raft re-learns it), but it never
                // points past the entries that survived.
                let lastRecovered = recovered.entries.last?.index ?? recovered.snapshot?.metadata.index ?? 0
                #expect(hs.commit <= lastRecovered, "point \(point) torn \(torn)")
                let base = recovered.snapshot?.metadata.index ?? 0
                #expect(base >= ack.baseIndex, "point \(point) torn \(torn)")
                let recoveredByIndex = Dictionary(uniqueKeysWithValues: recovered.entries.map { ($0.index, $0) })
                for (index, entry) in ack.entries where index > base {
                    if let replacedFrom = failedFrom, index >= replacedFrom { continue }
                    #expect(recoveredByIndex[index] == entry, "point \(point) torn \(torn): lost acknowledged entry \(index)")
                }
                // Recovery leaves a WAL that accepts writes and reopens to the same state.
                let (wal, _) = try WAL.open(directory: dir, fileSystem: image, segmentSize: 600)
                let next = (recovered.entries.last?.index ?? base) + 1
                try wal.save(hardState: HardState(term: hs.term + 1, vote: 0, commit: hs.commit),
                             entries: [Entry(term: hs.term + 1, index: next, data: [7])])
                let (_, again) = try WAL.open(directory: dir, fileSystem: image, segmentSize: 600)
                #expect(again.entries.last == Entry(term: hs.term + 1, index: next, data: [7]))
            }
        }
    }

    @Test("a failed write or fsync is a thrown error and the WAL refuses every later call")
    func failureIsSticky() throws {
        let fs = InMemoryFileSystem()
        let (wal, _) = try WAL.open(directory: dir, fileSystem: fs)
        fs.failAtOperation = fs.operationCount + 2   // the write succeeds, the fsync fails
        #expect(throws: StorageError.self) {
            try wal.save(hardState: HardState(term: 1, vote: 1), entries: [])
        }
        #expect(throws: StorageError.self) {
            try wal.save(hardState: HardState(term: 2), entries: [])
        }
        // The un-fsynced vote is gone after the crash.
        let (_, recovered) = try WAL.open(directory: dir, fileSystem: fs.crashImage())
        #expect(recovered.hardState == HardState())
    }

    @Test("a truncated WAL tail is repaired: the torn record is dropped and the log continues")
    func truncatedTailRepaired() throws {
        let fs = InMemoryFileSystem()
        let (wal, _) = try WAL.open(directory: dir, fileSystem: fs)
        try wal.save(hardState: HardState(term: 1, vote: 1), entries: (1...5).map { Entry(term: 1, index: $0, data: payload($0, 1)) })
        let name = try #require(try fs.listDirectory(dir).first { $0.hasSuffix(".wal") })
        let full = try #require(fs.contents(of: "\(dir)/\(name)"))
        let lastRecordSize = 8 + 1 + Entry(term: 1, index: 5, data: payload(5, 1)).encode().count - 1
        // Cut anywhere inside the hard-state record that ends the file, or inside the last entry.
        for cut in [full.count - 1, full.count - 5, full.count - 12, full.count - lastRecordSize - 3, full.count - lastRecordSize - 20] {
            let damaged = InMemoryFileSystem()
            damaged.setContents("\(dir)/\(name)", Array(full[0..<cut]))
            let (repaired, recovered) = try WAL.open(directory: dir, fileSystem: damaged)
            #expect(recovered.entries.count >= 3, "cut at \(cut)")
            #expect(recovered.entries.allSatisfy { $0.data == payload($0.index, $0.term) })
            #expect((damaged.contents(of: "\(dir)/\(name)")?.count ?? 0) <= cut, "the torn tail was truncated away")
            try repaired.save(hardState: HardState(term: 2, vote: 2), entries: [])
            let (_, again) = try WAL.open(directory: dir, fileSystem: damaged)
            #expect(again.hardState == HardState(term: 2, vote: 2))
            #expect(again.entries == recovered.entries)
        }
    }

    @Test("a corrupted record before the tail is refused with an error naming the file and offset")
    func corruptionBeforeTailRefused() throws {
        let fs = InMemoryFileSystem()
        let (wal, _) = try WAL.open(directory: dir, fileSystem: fs)
        for index in UInt64(1)...6 {
            try wal.save(hardState: nil, entries: [Entry(term: 1, index: index, data: payload(index, 1))])
        }
        let name = try #require(try fs.listDirectory(dir).first { $0.hasSuffix(".wal") })
        let path = "\(dir)/\(name)"
        let full = try #require(fs.contents(of: path))
        let recordSize = full.count / 6
        var damaged = full
        damaged[recordSize * 2 + 12] ^= 0x40   // inside the body of the third record
        let corrupt = InMemoryFileSystem()
        corrupt.setContents(path, damaged)
        do {
            _ = try WAL.open(directory: dir, fileSystem: corrupt)
            Issue.record("a corrupt WAL was accepted")
        } catch let error as StorageError {
            #expect(error == .corrupt(file: path, offset: recordSize * 2, reason: "checksum mismatch"))
            #expect(error.description.contains(path) && error.description.contains("offset \(recordSize * 2)"))
        }
        #expect(corrupt.contents(of: path) == damaged, "nothing was truncated")
    }

    @Test("random bytes and random damage to a WAL never crash the reader")
    func walReaderFuzz() throws {
        var random = SplitMix64(seed: 42)
        let fs = InMemoryFileSystem()
        let (wal, _) = try WAL.open(directory: dir, fileSystem: fs)
        for index in UInt64(1)...8 {
            try wal.save(hardState: HardState(term: 1, vote: 1, commit: index - 1),
                         entries: [Entry(term: 1, index: index, data: payload(index, 1))])
        }
        let name = try #require(try fs.listDirectory(dir).first { $0.hasSuffix(".wal") })
        let valid = try #require(fs.contents(of: "\(dir)/\(name)"))
        for round in 0..<1_500 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = valid
                for _ in 0..<(1 + random.next() % 4) {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
                if random.next() % 2 == 0 { bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count)))) }
            }
            let target = InMemoryFileSystem()
            target.setContents("\(dir)/\(name)", bytes)
            do {
                _ = try WAL.open(directory: dir, fileSystem: target)
            } catch is StorageError {
                // Refusing damage is fine; trapping is not.
            }
        }
    }

    @Test("the POSIX file system works end to end: WAL, snapshot rename, reopen")
    func posixSmoke() throws {
        let fs = PosixFileSystem()
        let path = "/tmp/raft-posix-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))"
        let (wal, _) = try WAL.open(directory: path, fileSystem: fs, segmentSize: 300)
        for index in UInt64(1)...20 {
            try wal.save(hardState: HardState(term: 2, vote: 1, commit: index),
                         entries: [Entry(term: 2, index: index, data: payload(index, 2))])
        }
        try wal.saveSnapshot(Snapshot(metadata: SnapshotMetadata(index: 15, term: 2, conf: ConfState(voters: [1])),
                                      data: [1, 2, 3]))
        try wal.compact()
        let (_, recovered) = try WAL.open(directory: path, fileSystem: fs, segmentSize: 300)
        #expect(recovered.hardState == HardState(term: 2, vote: 1, commit: 20))
        #expect(recovered.snapshot?.data == [1, 2, 3])
        #expect(recovered.entries.map(\.index) == Array(16...20))
        for name in try fs.listDirectory(path + "/snap") { try fs.removeFile(path + "/snap/" + name) }
        for name in try fs.listDirectory(path) where name != "snap" { try fs.removeFile(path + "/" + name) }
        rmdir(path + "/snap")
        rmdir(path)
    }
}
