import FoundationEssentials

/// One change in a batch. `expectedVersion` is the version the writer read:
/// 0 means "must not exist yet" for a create.
public enum Write: Codable, Equatable, Sendable {
    case create(StoredObject)
    case update(StoredObject)
    case delete(ObjectKind, id: String, expectedVersion: UInt64)
}

/// What the store tells its watchers, in log order.
public enum StoreEvent: Equatable, Sendable {
    case created(StoredObject)
    case updated(old: StoredObject, new: StoredObject)
    case deleted(StoredObject)
}

public enum StoreError: Error, Codable, Equatable, Sendable, CustomStringConvertible {
    case exists(ObjectKind, String)
    case notFound(ObjectKind, String)
    case versionConflict(ObjectKind, String, expected: UInt64, actual: UInt64)
    case malformedCommand(index: UInt64)
    /// The write contradicts what another object holds (a network's name, VNI or subnet).
    case conflict(String)

    public var description: String {
        switch self {
        case .exists(let kind, let id): "\(kind.rawValue) \(id) already exists"
        case .notFound(let kind, let id): "\(kind.rawValue) \(id) not found"
        case .versionConflict(let kind, let id, let expected, let actual):
            "update out of sequence: \(kind.rawValue) \(id) is at version \(actual), not \(expected); read it again and retry"
        case .malformedCommand(let index): "the log entry at \(index) is not a batch of writes"
        case .conflict(let what): what
        }
    }
}

/// The replicated state: every object by kind and id. Pure — the Raft log
/// feeds it batches in order; it checks versions and applies all of a batch
/// or none of it.
public struct Store: Codable, Equatable, Sendable {
    public private(set) var objects: [ObjectKind: [String: StoredObject]] = [:]

    public init() {}

    public func get(_ kind: ObjectKind, _ id: String) -> StoredObject? { objects[kind]?[id] }
    public func all(_ kind: ObjectKind) -> [StoredObject] { objects[kind].map { Array($0.values) } ?? [] }

    public var cluster: ClusterObject? {
        guard case .cluster(let cluster)? = all(.cluster).first else { return nil }
        return cluster
    }

    public var nodes: [NodeObject] {
        all(.node).compactMap { if case .node(let node) = $0 { node } else { nil } }
    }

    public var services: [ServiceObject] {
        all(.service).compactMap { if case .service(let service) = $0 { service } else { nil } }
    }

    public var tasks: [TaskObject] {
        all(.task).compactMap { if case .task(let task) = $0 { task } else { nil } }
    }

    /// Applies `batch` as the write at log index `version`, stamped `now`.
    public mutating func apply(_ batch: [Write], version: UInt64, now: Date) throws(StoreError) -> [StoreEvent] {
        var next = self
        var events: [StoreEvent] = []
        for write in batch {
            switch write {
            case .create(var object):
                let id = object.meta.id
                guard next.objects[object.kind]?[id] == nil else { throw .exists(object.kind, id) }
                if case .network(let network) = object, let conflict = next.conflict(creating: network) { throw .conflict(conflict) }
                object.meta.version = version
                object.meta.createdAt = now
                object.meta.updatedAt = now
                next.objects[object.kind, default: [:]][id] = object
                events.append(.created(object))
            case .update(var object):
                let id = object.meta.id
                guard let old = next.objects[object.kind]?[id] else { throw .notFound(object.kind, id) }
                guard old.meta.version == object.meta.version else {
                    throw .versionConflict(object.kind, id, expected: object.meta.version, actual: old.meta.version)
                }
                object.meta.version = version
                object.meta.createdAt = old.meta.createdAt
                object.meta.updatedAt = now
                next.objects[object.kind]?[id] = object
                events.append(.updated(old: old, new: object))
            case .delete(let kind, let id, let expectedVersion):
                guard let old = next.objects[kind]?[id] else { throw .notFound(kind, id) }
                guard old.meta.version == expectedVersion else {
                    throw .versionConflict(kind, id, expected: expectedVersion, actual: old.meta.version)
                }
                next.objects[kind]?[id] = nil
                events.append(.deleted(old))
            }
        }
        self = next
        return events
    }
}
