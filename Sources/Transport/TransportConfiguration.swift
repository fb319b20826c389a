import NIOSSL

/// This node's credentials: its certificate (chain) and key, and the cluster
/// CA every peer's certificate must chain to. All PEM.
public struct TransportCredentials: Sendable {
    public var certificateChainPEM: String
    public var privateKeyPEM: String
    public var trustedRootsPEM: String

    public init(certificateChainPEM: String, privateKeyPEM: String, trustedRootsPEM: String) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.trustedRootsPEM = trustedRootsPEM
    }

    /// Mutual TLS 1.3: each side presents its certificate and accepts only
    /// certificates issued by the cluster CA (a listener that serves joiners
    /// also lets clients without a certificate in, for requests only). Host names are not checked —
    /// peers are known by node id (the certificate's common name), which the
    /// transport compares itself.
    func tlsConfiguration(server: Bool, allowAnonymousClients: Bool = false) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificateChainPEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        let roots = try NIOSSLCertificate.fromPEMBytes(Array(trustedRootsPEM.utf8))
        var configuration = server
            ? TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            : TLSConfiguration.makeClientConfiguration()
        if !server {
            configuration.certificateChain = chain
            configuration.privateKey = .privateKey(key)
        }
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .certificates(roots)
        configuration.certificateVerification = server && allowAnonymousClients ? .optionalVerification : .noHostnameVerification
        return configuration
    }
}

public struct TransportConfiguration: Sendable {
    /// Frames larger than this are refused, and the connection carrying them closed.
    public var maximumFrameBytes: Int
    /// Bytes a peer may have queued or in flight before further sends to it are dropped.
    public var sendQueueBytes: Int
    /// Reconnect delays: doubling from the first to the cap, reset by a good handshake.
    public var initialBackoffMilliseconds: Int64
    public var maximumBackoffMilliseconds: Int64
    /// Also how long a peer has for its TLS handshake.
    public var connectTimeoutMilliseconds: Int64
    /// Requests of one member's connection served at once; as many more may
    /// wait, and the connection is not read meanwhile. (An anonymous peer gets one.)
    public var maximumOutstandingRequests: Int
    /// How long an anonymous peer (a joiner) may hold a connection without asking anything.
    public var anonymousIdleTimeoutMilliseconds: Int64
    /// Connections not yet proven to be a member's (in the handshake, or
    /// anonymous) from one address, and from all: more are closed at accept.
    public var maximumUnverifiedConnectionsPerSource: Int
    public var maximumUnverifiedConnections: Int

    public init(maximumFrameBytes: Int = 16 << 20, sendQueueBytes: Int = 64 << 20,
                initialBackoffMilliseconds: Int64 = 50, maximumBackoffMilliseconds: Int64 = 2_000,
                connectTimeoutMilliseconds: Int64 = 1_000, maximumOutstandingRequests: Int = 8,
                anonymousIdleTimeoutMilliseconds: Int64 = 10_000,
                maximumUnverifiedConnectionsPerSource: Int = 8, maximumUnverifiedConnections: Int = 64) {
        self.maximumFrameBytes = maximumFrameBytes
        self.sendQueueBytes = sendQueueBytes
        self.initialBackoffMilliseconds = initialBackoffMilliseconds
        self.maximumBackoffMilliseconds = maximumBackoffMilliseconds
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.maximumOutstandingRequests = maximumOutstandingRequests
        self.anonymousIdleTimeoutMilliseconds = anonymousIdleTimeoutMilliseconds
        self.maximumUnverifiedConnectionsPerSource = maximumUnverifiedConnectionsPerSource
        self.maximumUnverifiedConnections = maximumUnverifiedConnections
    }
}
