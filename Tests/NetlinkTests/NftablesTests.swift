#if canImport(Glibc)
import Glibc
#endif
import Addressing
import Testing
@testable import Netlink

/// nftables batches built by shoal, read back with Debian's `nft` as the
/// oracle, in a network namespace the test makes.
@Suite(.enabled(if: getuid() == 0, "needs root to create namespaces"), .serialized)
struct NftablesTests {
    private let namespace = "/tmp/shoal-nft-test-\(getpid())"

    private func listing(_ table: String) -> String {
        guard let pipe = popen("nsenter --net=\(namespace) nft list table ip \(table) 2>&1", "r") else { return "" }
        var output = ""
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), pipe) != nil {
            output += String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        pclose(pipe)
        return output
    }

    @Test func aMasqueradeTableHoldsOneRuleHoweverOftenItIsReplaced() throws {
        try Namespace.create(.network, at: namespace)
        defer { try? Namespace.remove(at: namespace) }
        let subnet = try #require(IPv4Network("172.18.0.0/16"))
        for _ in 0..<2 {
            try NetfilterSocket.open(inNamespace: namespace)
                .replaceMasqueradeTable("shoal_test", source: subnet, exceptOutputInterface: "shoal_gwbridge")
        }
        let rules = listing("shoal_test")
        #expect(rules.contains("type nat hook postrouting priority srcnat; policy accept;"), "\(rules)")
        #expect(rules.components(separatedBy: "masquerade").count == 2, "exactly one rule: \(rules)")
        #expect(rules.contains("ip saddr 172.18.0.0/16 oifname != \"shoal_gwbridge\" masquerade"), "\(rules)")

        try NetfilterSocket.open(inNamespace: namespace).deleteTable("shoal_test")
        try NetfilterSocket.open(inNamespace: namespace).deleteTable("shoal_test")
        #expect(listing("shoal_test").contains("No such file or directory"))
    }
}

private extension String {
    func components(separatedBy separator: String) -> [Substring] { split(separator: separator, omittingEmptySubsequences: false) }
}
