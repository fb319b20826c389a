import Crypto
import FoundationEssentials
import X509

/// A swarm join token, `SWMTKN-1-<digest>-<secret>`, as docker writes them:
/// the digest is the SHA-256 of the root CA certificate in base 36 (50
/// characters), so a joiner can check it reached the right cluster *before*
/// it sends the secret (25 base-36 characters, one per role).
public struct JoinToken: Equatable, Sendable, CustomStringConvertible {
    public static let prefix = "SWMTKN"
    public static let version = "1"
    static let digestLength = 50
    static let secretLength = 25

    public let caDigest: String
    public let secret: String

    public init(caDigest: String, secret: String) {
        self.caDigest = caDigest
        self.secret = secret
    }

    /// A fresh token for the CA whose certificate is `caCertificateDER`.
    public static func generate(caCertificateDER: [UInt8]) -> JoinToken {
        JoinToken(caDigest: digest(of: caCertificateDER), secret: Base36.random(length: secretLength))
    }

    /// Parses a token a user typed; the error says what is wrong with it.
    public init(parsing text: String) throws(JoinTokenError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Self.prefix else { throw .malformed }
        guard parts[1] == Self.version else { throw .unsupportedVersion(String(parts[1])) }
        guard parts[2].count == Self.digestLength, parts[2].allSatisfy(Self.isBase36),
              parts[3].count == Self.secretLength, parts[3].allSatisfy(Self.isBase36) else { throw .malformed }
        self.init(caDigest: String(parts[2]), secret: String(parts[3]))
    }

    public var description: String { "\(Self.prefix)-\(Self.version)-\(caDigest)-\(secret)" }

    /// Whether `caCertificateDER` is the CA this token was made for.
    public func pins(caCertificateDER: [UInt8]) -> Bool {
        Self.digest(of: caCertificateDER) == caDigest
    }

    /// The CA certificate a manager sent, accepted only when `der` is exactly
    /// one well-formed certificate — nothing before or after it, encoded as we
    /// would encode it — whose digest is this token's. Whatever the joiner
    /// trusts afterwards is built from these bytes, never from a peer's text:
    /// two parsers reading one text differently is how a hidden second
    /// certificate gets trusted.
    public func pinnedCA(der: [UInt8]) throws(JoinTokenError) -> PinnedCertificate {
        guard let certificate = try? Certificate(derEncoded: der),
              let document = try? certificate.serializeAsPEM(), document.derBytes == der else {
            throw .notOneCertificate
        }
        guard pins(caCertificateDER: der) else { throw .caMismatch(expected: caDigest) }
        return PinnedCertificate(derBytes: der, pem: document.pemString)
    }

    /// Compares secrets in time independent of where they differ.
    public func hasSecret(_ other: String) -> Bool {
        let a = Array(secret.utf8), b = Array(other.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// SHA-256 of the certificate as a 50-digit base-36 number.
    static func digest(of der: [UInt8]) -> String {
        var number = Array(SHA256.hash(data: der))  // big-endian base-256 digits
        var digits: [UInt8] = []
        while number.contains(where: { $0 != 0 }) {
            var remainder = 0
            for i in number.indices {
                let value = remainder * 256 + Int(number[i])
                number[i] = UInt8(value / 36)
                remainder = value % 36
            }
            digits.append(Base36.digits[remainder])
        }
        while digits.count < digestLength { digits.append(Base36.digits[0]) }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    private static func isBase36(_ character: Character) -> Bool {
        character.isASCII && (character.isNumber || ("a"..."z").contains(character))
    }
}

/// A CA certificate that passed `JoinToken.pinnedCA`: its DER, and PEM encoded here from that DER.
public struct PinnedCertificate: Equatable, Sendable {
    public let derBytes: [UInt8]
    public let pem: String
}

public enum JoinTokenError: Error, Equatable, CustomStringConvertible {
    case malformed
    case unsupportedVersion(String)
    /// The manager's answer is not exactly one well-formed certificate.
    case notOneCertificate
    case caMismatch(expected: String)

    public var description: String {
        switch self {
        case .malformed: "invalid join token: it should look like SWMTKN-1-<50 characters>-<25 characters>"
        case .unsupportedVersion(let version): "invalid join token: version \(version) is not supported, only 1"
        case .notOneCertificate:
            "error while validating Root CA Certificate: the manager did not send exactly one certificate: check that it runs the same shoal version"
        case .caMismatch(let expected):
            "error while validating Root CA Certificate: remote CA does not match fingerprint. Expected: \(expected)"
        }
    }
}

extension CertificateAuthority {
    /// The CA certificate, DER.
    public var certificateDER: [UInt8] {
        get throws { try certificate.serializeAsPEM().derBytes }
    }

    /// The DER of a certificate this node saved as PEM itself (never a peer's text).
    public static func certificateDER(ownPEM pem: String) throws -> [UInt8] {
        try Certificate(pemEncoded: pem).serializeAsPEM().derBytes
    }
}

/// Lowercase base-36 text, the alphabet of docker's ids and tokens.
public enum Base36 {
    static let digits = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

    /// `length` random base-36 characters from the system's secure generator.
    public static func random(length: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String(decoding: (0..<length).map { _ in digits[Int.random(in: 0..<36, using: &generator)] }, as: UTF8.self)
    }

    /// A docker-style object id: 25 random base-36 characters (about 129 bits).
    public static func objectID() -> String { random(length: 25) }
}
