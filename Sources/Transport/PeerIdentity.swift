import X509

/// Who is at the other end of a connection, as its verified certificate says:
/// the common name is the node id, the organizational unit its role.
public struct PeerIdentity: Hashable, Sendable, CustomStringConvertible {
    public var nodeID: String
    public var role: String

    public init(nodeID: String, role: String) {
        self.nodeID = nodeID
        self.role = role
    }

    /// Reads the identity from a DER certificate; nil when it has no common name.
    init?(certificateDER: [UInt8]) {
        guard let certificate = try? Certificate(derEncoded: certificateDER) else { return nil }
        var commonName: String?
        var unit = ""
        for attribute in certificate.subject.flatMap({ $0 }) {
            switch attribute.type {
            case .RDNAttributeType.commonName: commonName = String(attribute.value)
            case .RDNAttributeType.organizationalUnitName: unit = String(attribute.value) ?? ""
            default: break
            }
        }
        guard let commonName, !commonName.isEmpty else { return nil }
        self.init(nodeID: commonName, role: unit)
    }

    public var description: String { role.isEmpty ? nodeID : "\(nodeID) (\(role))" }
}
