import Raft

/// The durable storage of one Raft node: a write-ahead log plus snapshot files.
///
/// ## On disk
///
/// - `<dir>/<seq>-<firstIndex>.wal` (16 hex digits each): segments, replayed in `seq` order.
///   A segment is a sequence of records `[length u32 LE][crc32c u32 LE][type u8][body]`; the
///   length counts type and body, the CRC-32C (Castagnoli) covers them. Types: 1 entry (it
///   replaces every stored entry from its index on), 2 hard state, 3 snapshot marker (index,
///   term, whether the entries after it stay valid). Bodies use the `Raft` codec (varints).
///   A new segment is started when the current one would exceed `segmentSize`; it begins with
///   the hard state and the snapshot marker, so older segments can be deleted once a snapshot
///   covers all their entries (`compact()`).
/// - `<dir>/snap/<term>-<index>.snap`: `[crc32c u32 LE][encoded Snapshot]`, written to a
///   `.tmp` file, fsync'd, renamed into place, and the directory fsync'd; only then is its
///   marker appended to the log. Leftover `.tmp` files are deleted on open.
///
/// ## Guarantees
///
/// Every save is fsync'd before it returns, so the caller may then send messages that
/// depend on it; new files and renames are followed by a directory fsync. If a write or sync
/// fails, the WAL is failed for good and every later call throws (see `StorageError`): the
/// node must stop rather than continue as if the data were durable.
/// Recovery truncates a torn tail (an incomplete or checksum-failing last record of the last
/// segment, or zero fill); damage anywhere else throws `StorageError.corrupt` naming the file
/// and byte offset, and nothing is modified.
public final class WAL {
    fileprivate struct Segment {
        var sequence: UInt64
        var firstIndex: UInt64
        var name: String { "\(hex(sequence))-\(hex(firstIndex)).wal" }
    }

    private let fileSystem: any FileSystem
    private let directory: String
    private let segmentSize: Int
    private var segments: [Segment]
    private var current: any AppendableFile
    private var currentSize: Int
    private var failure: StorageError?

    private var hardState: HardState
    private var marker: (index: UInt64, term: UInt64)?
    /// Terms of the entries after the snapshot, to decide whether a new snapshot retains them.
    private var terms: [UInt64]

    private var baseIndex: UInt64 { marker?.index ?? 0 }
    private var lastIndex: UInt64 { baseIndex + UInt64(terms.count) }
    private var snapshotDirectory: String { directory + "/snap" }

    private init(fileSystem: any FileSystem, directory: String, segmentSize: Int, segments: [Segment],
                 current: any AppendableFile, currentSize: Int, replay: WALReplay) {
        self.fileSystem = fileSystem
        self.directory = directory
        self.segmentSize = segmentSize
        self.segments = segments
        self.current = current
        self.currentSize = currentSize
        hardState = replay.hardState
        marker = replay.marker
        terms = replay.entries.map(\.term)
    }

    deinit {
        current.close()
    }

    /// Opens (creating if needed) the WAL in `directory` and recovers what it holds.
    public static func open(directory: String, fileSystem: any FileSystem,
                            segmentSize: Int = 64 << 20) throws -> (WAL, RecoveredState) {
        try fileSystem.createDirectory(directory)
        try fileSystem.createDirectory(directory + "/snap")
        // Make the directories themselves durable before anything in them is trusted.
        try fileSystem.syncDirectory(parentDirectory(of: directory))
        try fileSystem.syncDirectory(directory)
        // A crash while writing a snapshot leaves its temp file behind; it was never renamed
        // into place, so it is garbage.
        for name in try fileSystem.listDirectory(directory + "/snap") where name.hasSuffix(".tmp") {
            try fileSystem.removeFile(directory + "/snap/" + name)
        }
        var segments = try fileSystem.listDirectory(directory).compactMap(Segment.init(fileName:))
            .sorted { $0.sequence < $1.sequence }
        var replay = WALReplay()
        var currentSize = 0
        for (position, segment) in segments.enumerated() {
            let path = directory + "/" + segment.name
            let bytes = try fileSystem.readFile(path)
            let validLength = try replayRecords(bytes, file: path, isLast: position == segments.count - 1,
                                                into: &replay)
            if validLength < bytes.count {
                try fileSystem.truncateFile(path, to: validLength)
            }
            currentSize = validLength
        }
        try replay.checkContiguous(file: directory)
        let snapshot = try replay.marker.map { marker in
            try loadSnapshot(directory: directory + "/snap", index: marker.index, term: marker.term,
                             fileSystem: fileSystem)
        }
        let file: any AppendableFile
        if let last = segments.last {
            file = try fileSystem.openForAppend(directory + "/" + last.name)
            try file.sync()
        } else {
            let first = Segment(sequence: 1, firstIndex: 1)
            file = try fileSystem.openForAppend(directory + "/" + first.name)
            try fileSystem.syncDirectory(directory)
            segments = [first]
        }
        let wal = WAL(fileSystem: fileSystem, directory: directory, segmentSize: max(1, segmentSize),
                      segments: segments, current: file, currentSize: currentSize, replay: replay)
        let recovered = RecoveredState(hardState: replay.hardState, snapshot: snapshot, entries: replay.entries)
        return (wal, recovered)
    }

    /// Persists what a `Ready` asks for, in the contract's order: the snapshot (if any), then
    /// the entries and the hard state in one fsync'd write. When this returns, the Ready's
    /// messages may be sent. If it throws, the node must stop (see `StorageError`).
    public func persist(_ ready: Ready) throws {
        if let snapshot = ready.snapshot { try saveSnapshot(snapshot) }
        try save(hardState: ready.hardState, entries: ready.entries)
    }

    /// Durably appends `entries` (an entry at index i replaces stored entries from i on) and
    /// then `hardState`, fsync'd before returning — except a change of the commit index alone.
    /// Returns whether it synced.
    @discardableResult
    public func save(hardState newState: HardState?, entries: [Entry]) throws -> Bool {
        try checkHealthy()
        if let first = entries.first?.index {
            guard first > baseIndex, first <= lastIndex + 1 else {
                throw StorageError.invalidArgument("entry \(first) does not follow \(lastIndex)")
            }
            for (offset, entry) in entries.enumerated() where entry.index != first + UInt64(offset) {
                throw StorageError.invalidArgument("entries are not contiguous at \(entry.index)")
            }
        }
        var writer = ByteWriter()
        for entry in entries { WALRecord.entry(entry).encode(into: &writer) }
        if let newState { WALRecord.hardState(newState).encode(into: &writer) }
        if writer.bytes.isEmpty { return false }
        // Entries, a term and a vote are promises to peers and must be on disk before any
        // message leaves; a commit index alone may be lost in a crash (Raft recovers it), so
        // it rides along with the next fsync, as in etcd.
        let mustSync = !entries.isEmpty || newState.map { $0.term != hardState.term || $0.vote != hardState.vote } ?? false
        try failing {
            if currentSize > 0 && currentSize + writer.bytes.count > segmentSize {
                try cutSegment(firstIndex: entries.first?.index ?? lastIndex + 1)
            }
            try append(writer.bytes, sync: mustSync)
        }
        if let first = entries.first?.index {
            terms.removeSubrange(Int(first - baseIndex - 1)...)
            terms.append(contentsOf: entries.map(\.term))
        }
        if let newState { hardState = newState }
        return mustSync
    }

    /// Durably stores a snapshot, then records it in the log. Entries after it stay valid only if
    /// the log holds the snapshot's last entry with the same term (§7); otherwise they are dropped.
    public func saveSnapshot(_ snapshot: Snapshot) throws {
        try checkHealthy()
        let meta = snapshot.metadata
        guard meta.index > baseIndex else { return }
        let retains = meta.index <= lastIndex && termAt(meta.index) == meta.term
        try failing {
            let name = Self.snapshotName(index: meta.index, term: meta.term)
            let temporary = snapshotDirectory + "/" + name + ".tmp"
            try? fileSystem.removeFile(temporary)
            let file = try fileSystem.openForAppend(temporary)
            defer { file.close() }
            let body = snapshot.encode()
            var framed = ByteWriter(capacity: body.count + 4)
            framed.write(CRC32C.checksum(body))
            framed.writeRaw(body)
            try file.write(framed.bytes)
            try file.sync()
            try fileSystem.rename(temporary, to: snapshotDirectory + "/" + name)
            try fileSystem.syncDirectory(snapshotDirectory)
            var writer = ByteWriter()
            WALRecord.snapshotMarker(index: meta.index, term: meta.term, retainsSuffix: retains).encode(into: &writer)
            try append(writer.bytes)
        }
        if retains && meta.index <= lastIndex {
            terms.removeFirst(Int(meta.index - baseIndex))
        } else {
            terms = []
        }
        marker = (meta.index, meta.term)
    }

    /// Deletes segments whose entries are all covered by the latest snapshot, and older snapshot files.
    public func compact() throws {
        try checkHealthy()
        try failing {
            var removable = 0
            while removable + 1 < segments.count && segments[removable + 1].firstIndex <= baseIndex + 1 {
                removable += 1
            }
            // Oldest first, each removal made durable before the next, so that whatever a crash
            // leaves behind is always a suffix of the segment sequence.
            for segment in segments.prefix(removable) {
                try fileSystem.removeFile(directory + "/" + segment.name)
                try fileSystem.syncDirectory(directory)
            }
            segments.removeFirst(removable)
            guard let marker else { return }
            let keep = Self.snapshotName(index: marker.index, term: marker.term)
            for name in try fileSystem.listDirectory(snapshotDirectory) where name != keep {
                try fileSystem.removeFile(snapshotDirectory + "/" + name)
            }
        }
    }

    /// Number of segment files, for tests and diagnostics.
    public var segmentCount: Int { segments.count }

    // MARK: - Writing

    private func checkHealthy() throws {
        if let failure { throw StorageError.failed(failure.description) }
    }

    /// Runs `body`; any error marks the WAL failed for good.
    private func failing(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            let storageError = error as? StorageError ?? .failed("\(error)")
            failure = storageError
            throw storageError
        }
    }

    private func append(_ bytes: [UInt8], sync: Bool = true) throws {
        try current.write(bytes)
        currentSize += bytes.count
        if sync { try current.sync() }
    }

    /// Starts a new segment whose header repeats the hard state and snapshot marker, so older
    /// segments can be deleted without losing them.
    private func cutSegment(firstIndex: UInt64) throws {
        // A commit-only record may still be unsynced; only the last segment may have a torn tail.
        try current.sync()
        let next = Segment(sequence: (segments.last?.sequence ?? 0) + 1, firstIndex: firstIndex)
        let file = try fileSystem.openForAppend(directory + "/" + next.name)
        var header = ByteWriter()
        WALRecord.hardState(hardState).encode(into: &header)
        if let marker {
            WALRecord.snapshotMarker(index: marker.index, term: marker.term, retainsSuffix: true).encode(into: &header)
        }
        try file.write(header.bytes)
        try file.sync()
        try fileSystem.syncDirectory(directory)
        current.close()
        current = file
        currentSize = header.bytes.count
        segments.append(next)
    }

    private func termAt(_ index: UInt64) -> UInt64? {
        if index == baseIndex { return marker?.term ?? 0 }
        if index < baseIndex || index > lastIndex { return nil }
        return terms[Int(index - baseIndex - 1)]
    }

    // MARK: - Recovery

    /// Replays the records of one segment; returns the length of its valid prefix. Only the last
    /// segment may end in a torn record.
    private static func replayRecords(_ bytes: [UInt8], file: String, isLast: Bool,
                                      into replay: inout WALReplay) throws -> Int {
        var offset = 0
        while offset < bytes.count {
            // Damage at the end of the last segment is a write torn by a crash: keep the prefix.
            // Anywhere else it is corruption, reported with the file and offset.
            func damaged(_ reason: String, tail: Bool) throws -> Int {
                guard isLast && tail else { throw StorageError.corrupt(file: file, offset: offset, reason: reason) }
                return offset
            }
            if bytes.count - offset < WALRecord.headerSize {
                return try damaged("truncated record header", tail: true)
            }
            var reader = ByteReader(bytes, offset: offset)
            let length = Int((try? reader.readUInt32()) ?? 0)
            let checksum = (try? reader.readUInt32()) ?? 0
            if length == 0 {
                return try damaged("zero-length record", tail: bytes[offset...].allSatisfy { $0 == 0 })
            }
            let bodyStart = offset + WALRecord.headerSize
            guard length <= WALRecord.maxBodySize, length <= bytes.count - bodyStart else {
                return try damaged("record length \(length) runs past the end of the file", tail: true)
            }
            let end = bodyStart + length
            guard CRC32C.checksum(bytes[bodyStart..<end]) == checksum else {
                return try damaged("checksum mismatch", tail: end == bytes.count)
            }
            let record: WALRecord
            do {
                record = try WALRecord(body: bytes[bodyStart..<end])
            } catch {
                throw StorageError.corrupt(file: file, offset: offset, reason: "undecodable record: \(error)")
            }
            try replay.apply(record, file: file, offset: offset)
            offset = end
        }
        return offset
    }

    private static func loadSnapshot(directory: String, index: UInt64, term: UInt64,
                                     fileSystem: any FileSystem) throws -> Snapshot {
        let path = directory + "/" + snapshotName(index: index, term: term)
        let bytes = try fileSystem.readFile(path)
        var reader = ByteReader(bytes)
        guard let checksum = try? reader.readUInt32(), CRC32C.checksum(bytes.dropFirst(4)) == checksum,
              let snapshot = try? Snapshot(decoding: Array(bytes.dropFirst(4))) else {
            throw StorageError.corrupt(file: path, offset: 0, reason: "snapshot checksum or encoding invalid")
        }
        return snapshot
    }

    private static func snapshotName(index: UInt64, term: UInt64) -> String {
        "\(hex(term))-\(hex(index)).snap"
    }
}

extension WAL.Segment {
    /// Parses `<seq>-<firstIndex>.wal`; other names are not segments.
    fileprivate init?(fileName: String) {
        guard fileName.hasSuffix(".wal") else { return nil }
        let parts = fileName.dropLast(4).split(separator: "-")
        guard parts.count == 2, parts[0].count == 16, parts[1].count == 16,
              let sequence = UInt64(parts[0], radix: 16), let first = UInt64(parts[1], radix: 16) else { return nil }
        self.init(sequence: sequence, firstIndex: first)
    }
}

/// The directory holding `path` ("." for a bare name).
private func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

/// A 16-digit lowercase hex rendering, so file names sort numerically.
private func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
