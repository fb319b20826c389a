/// Binary encodings of the Raft types. Integers are unsigned LEB128 varints, byte strings are
/// a varint length then the bytes, every top-level value starts with a version byte, and every
/// read is bounds-checked: malformed input throws `DecodingError`, it never traps.
///
/// Message layout (version 1):
///
///     version u8 | kind u8 | flags u8 (bit 0 reject, bit 1 has snapshot)
///     from | to | term | logTerm | index | commit | rejectHint        (varints)
///     entry count | entries…                                            (see Entry)
///     snapshot?                                                         (see Snapshot)
///     context                                                           (blob)
///
/// Entry: term | index (varints) | kind u8 | data (blob).
/// Snapshot: index | term | voter count | voters… | learner count | learners… (varints) | data (blob).
/// A heartbeat encodes in about 10 bytes. The transport frames messages; this is only the body.
package let codecVersion: UInt8 = 1

/// A value whose body writes and reads itself; standing alone (in the WAL, in a snapshot file)
/// it is wrapped in the version byte and must use up its bytes exactly.
package protocol VersionedEncoding {
    /// Bytes to reserve when encoding.
    var encodedSizeHint: Int { get }
    func write(to writer: inout ByteWriter)
    init(from reader: inout ByteReader) throws(DecodingError)
}

extension VersionedEncoding {
    /// Encodes the value: the version byte, then its body.
    package func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: encodedSizeHint)
        writer.write(codecVersion)
        write(to: &writer)
        return writer.bytes
    }

    /// Decodes a value; throws on malformed input.
    package init(decoding bytes: [UInt8]) throws(DecodingError) {
        var reader = ByteReader(bytes)
        try reader.readVersion(codecVersion)
        self = try Self(from: &reader)
        try reader.expectEnd()
    }
}

extension Entry: VersionedEncoding {
    package var encodedSizeHint: Int { data.count + 24 }

    /// The fewest bytes an encoded entry takes (used to bound counts while decoding).
    package static let minimumEncodedSize = 4

    package func write(to writer: inout ByteWriter) {
        writer.writeVarint(term)
        writer.writeVarint(index)
        writer.write(kind.rawValue)
        writer.writeBlob(data)
    }

    package init(from reader: inout ByteReader) throws(DecodingError) {
        term = try reader.readVarint()
        index = try reader.readVarint()
        let kindOffset = reader.offset
        guard let decodedKind = EntryKind(rawValue: try reader.readUInt8()) else {
            throw .invalid("entry kind", offset: kindOffset)
        }
        kind = decodedKind
        data = try reader.readBlob()
    }
}

extension HardState: VersionedEncoding {
    package var encodedSizeHint: Int { 16 }

    package func write(to writer: inout ByteWriter) {
        writer.writeVarint(term)
        writer.writeVarint(vote)
        writer.writeVarint(commit)
    }

    package init(from reader: inout ByteReader) throws(DecodingError) {
        term = try reader.readVarint()
        vote = try reader.readVarint()
        commit = try reader.readVarint()
    }
}

extension ConfState {
    package func write(to writer: inout ByteWriter) {
        writer.writeVarint(UInt64(voters.count))
        for voter in voters { writer.writeVarint(voter) }
        writer.writeVarint(UInt64(learners.count))
        for learner in learners { writer.writeVarint(learner) }
    }

    package init(from reader: inout ByteReader) throws(DecodingError) {
        var decodedVoters: [NodeID] = []
        for _ in 0..<(try reader.readCount(minimumItemSize: 1)) { decodedVoters.append(try reader.readVarint()) }
        var decodedLearners: [NodeID] = []
        for _ in 0..<(try reader.readCount(minimumItemSize: 1)) { decodedLearners.append(try reader.readVarint()) }
        self.init(voters: decodedVoters, learners: decodedLearners)
    }
}

extension Snapshot: VersionedEncoding {
    package var encodedSizeHint: Int { data.count + 64 }

    package func write(to writer: inout ByteWriter) {
        writer.writeVarint(metadata.index)
        writer.writeVarint(metadata.term)
        metadata.conf.write(to: &writer)
        writer.writeBlob(data)
    }

    package init(from reader: inout ByteReader) throws(DecodingError) {
        let index = try reader.readVarint()
        let term = try reader.readVarint()
        let conf = try ConfState(from: &reader)
        metadata = SnapshotMetadata(index: index, term: term, conf: conf)
        data = try reader.readBlob()
    }
}

extension ConfChange {
    /// Encodes the change (the payload of a `.configChange` entry).
    public func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: context.count + 16)
        writer.write(codecVersion)
        writer.write(kind.rawValue)
        writer.writeVarint(node)
        writer.writeBlob(context)
        return writer.bytes
    }

    /// Decodes a change; throws on malformed input.
    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        var reader = ByteReader(bytes)
        try reader.readVersion(codecVersion)
        let kindOffset = reader.offset
        guard let decodedKind = Kind(rawValue: try reader.readUInt8()) else {
            throw .invalid("conf change kind", offset: kindOffset)
        }
        kind = decodedKind
        node = try reader.readVarint()
        context = try reader.readBlob()
        try reader.expectEnd()
    }
}

extension Message {
    /// Encodes the message body for the wire.
    public func encode() -> [UInt8] {
        let payload = entries.reduce(0) { $0 + $1.data.count + 8 } + (snapshot?.data.count ?? 0)
        var writer = ByteWriter(capacity: 48 + payload)
        writer.write(codecVersion)
        writer.write(kind.rawValue)
        writer.write(UInt8((reject ? 1 : 0) | (snapshot != nil ? 2 : 0)))
        writer.writeVarint(from)
        writer.writeVarint(to)
        writer.writeVarint(term)
        writer.writeVarint(logTerm)
        writer.writeVarint(index)
        writer.writeVarint(commit)
        writer.writeVarint(rejectHint)
        writer.writeVarint(UInt64(entries.count))
        for entry in entries { entry.write(to: &writer) }
        snapshot?.write(to: &writer)
        writer.writeBlob(context)
        return writer.bytes
    }

    /// Decodes a message body; throws on malformed input (never traps).
    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        var reader = ByteReader(bytes)
        try reader.readVersion(codecVersion)
        let kindOffset = reader.offset
        guard let decodedKind = Kind(rawValue: try reader.readUInt8()) else {
            throw .invalid("message kind", offset: kindOffset)
        }
        let flagsOffset = reader.offset
        let flags = try reader.readUInt8()
        guard flags & ~3 == 0 else { throw .invalid("message flags", offset: flagsOffset) }
        self.init(kind: decodedKind, from: try reader.readVarint(), to: try reader.readVarint(),
                  term: try reader.readVarint())
        reject = flags & 1 != 0
        logTerm = try reader.readVarint()
        index = try reader.readVarint()
        commit = try reader.readVarint()
        rejectHint = try reader.readVarint()
        let entryCount = try reader.readCount(minimumItemSize: Entry.minimumEncodedSize)
        var decodedEntries: [Entry] = []
        decodedEntries.reserveCapacity(entryCount)
        for _ in 0..<entryCount { decodedEntries.append(try Entry(from: &reader)) }
        entries = decodedEntries
        if flags & 2 != 0 {
            snapshot = try Snapshot(from: &reader)
        }
        context = try reader.readBlob()
        try reader.expectEnd()
    }
}
