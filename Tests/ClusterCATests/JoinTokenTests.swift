import Testing
@testable import ClusterCA

@Suite struct JoinTokenTests {
    @Test func aGeneratedTokenHasDockersShapeAndParsesBack() throws {
        let authority = try CertificateAuthority(commonName: "swarm-ca")
        let token = JoinToken.generate(caCertificateDER: try authority.certificateDER)
        let text = token.description
        #expect(text.hasPrefix("SWMTKN-1-"))
        #expect(text.count == "SWMTKN-1-".count + 50 + 1 + 25)
        #expect(try JoinToken(parsing: text) == token)
    }

    @Test func docsTokenParses() throws {
        let token = try JoinToken(parsing: "SWMTKN-1-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7c")
        #expect(token.secret == "8vxv8rssmk743ojnwacrr2e7c")
    }

    @Test(arguments: [
        "", "SWMTKN", "SWMTKN-1", "XWMTKN-1-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7c",
        "SWMTKN-1-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wx-8vxv8rssmk743ojnwacrr2e7c",   // digest too short
        "SWMTKN-1-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7",   // secret too short
        "SWMTKN-1-49NJ1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7c",  // not base 36
        "SWMTKN-1-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7c-x",
    ])
    func malformedTokensAreRefused(_ text: String) {
        #expect(throws: JoinTokenError.malformed) { try JoinToken(parsing: text) }
    }

    @Test func anotherVersionIsNamed() {
        #expect(throws: JoinTokenError.unsupportedVersion("2")) {
            try JoinToken(parsing: "SWMTKN-2-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7c")
        }
    }

    @Test func theDigestPinsItsCAAndNoOther() throws {
        let ours = try CertificateAuthority(commonName: "ours")
        let theirs = try CertificateAuthority(commonName: "theirs")
        let token = JoinToken.generate(caCertificateDER: try ours.certificateDER)
        #expect(token.pins(caCertificateDER: try ours.certificateDER))
        #expect(!token.pins(caCertificateDER: try theirs.certificateDER))
    }

    @Test func thePinnedCAIsExactlyTheOneCertificateSent() throws {
        let ours = try CertificateAuthority(commonName: "ours")
        let token = JoinToken.generate(caCertificateDER: try ours.certificateDER)
        let pinned = try token.pinnedCA(der: try ours.certificateDER)
        #expect(pinned.derBytes == (try ours.certificateDER))
        #expect(pinned.pem == (try ours.certificatePEM))
    }

    @Test func aSecondCertificateAfterThePinnedOneIsRefused() throws {
        let ours = try CertificateAuthority(commonName: "ours")
        let hidden = try CertificateAuthority(commonName: "hidden")
        let token = JoinToken.generate(caCertificateDER: try ours.certificateDER)
        #expect(throws: JoinTokenError.notOneCertificate) {
            try token.pinnedCA(der: try ours.certificateDER + hidden.certificateDER)
        }
        #expect(throws: JoinTokenError.notOneCertificate) { try token.pinnedCA(der: try ours.certificateDER + [0]) }
    }

    /// PEM text is not accepted at all — least of all the trick that hid a
    /// second certificate behind a BEGIN line with a trailing space.
    @Test func pemTextWithAHiddenCertificateIsRefused() throws {
        let ours = try CertificateAuthority(commonName: "ours")
        let hidden = try CertificateAuthority(commonName: "hidden")
        let token = JoinToken.generate(caCertificateDER: try ours.certificateDER)
        let begin = "-----BEGIN CERTIFICATE-----"
        let trick = try ours.certificatePEM + "\n" + begin + " " + hidden.certificatePEM.dropFirst(begin.count)
        #expect(throws: JoinTokenError.notOneCertificate) { try token.pinnedCA(der: Array(trick.utf8)) }
        #expect(throws: JoinTokenError.notOneCertificate) { try token.pinnedCA(der: Array(try ours.certificatePEM.utf8)) }
    }

    @Test(arguments: [[], [0x30], [0x30, 0x03, 1, 2, 3], Array("garbage".utf8), [UInt8](repeating: 0xff, count: 300)])
    func garbageIsRefusedAsACertificate(_ bytes: [UInt8]) throws {
        let token = JoinToken.generate(caCertificateDER: try CertificateAuthority(commonName: "ours").certificateDER)
        #expect(throws: JoinTokenError.notOneCertificate) { try token.pinnedCA(der: bytes) }
    }

    @Test func anotherCAIsRefusedWithTheExpectedFingerprint() throws {
        let ours = try CertificateAuthority(commonName: "ours")
        let theirs = try CertificateAuthority(commonName: "theirs")
        let token = JoinToken.generate(caCertificateDER: try ours.certificateDER)
        #expect(throws: JoinTokenError.caMismatch(expected: token.caDigest)) { try token.pinnedCA(der: try theirs.certificateDER) }
    }

    @Test func digestIsSHA256InBase36() {
        // SHA-256("") = e3b0c442…b855; as a base-36 number, zero-padded to 50 digits.
        let oracle = String("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", radix: 16, toRadix: 36)
        #expect(JoinToken.digest(of: []) == String(repeating: "0", count: 50 - oracle.count) + oracle)
    }

    @Test func secretsCompareWhole() {
        let token = JoinToken(caDigest: String(repeating: "0", count: 50), secret: "abc")
        #expect(token.hasSecret("abc"))
        #expect(!token.hasSecret("abd"))
        #expect(!token.hasSecret("ab"))
    }
}

extension String {
    /// Converts a big hexadecimal number to another radix (test oracle, simple and slow).
    init(_ hex: String, radix: Int, toRadix: Int) {
        var digits = hex.compactMap { Int(String($0), radix: radix) }
        var out = ""
        while digits.contains(where: { $0 != 0 }) {
            var remainder = 0
            var next: [Int] = []
            for d in digits {
                let value = remainder * radix + d
                next.append(value / toRadix)
                remainder = value % toRadix
            }
            out = String(remainder, radix: toRadix) + out
            digits = next
        }
        self = out
    }
}
