import FoundationEssentials
import GoTemplate
import Testing

/// `GoJSON` prints what Go's `json.MarshalIndent(v, "", "    ")` prints for the same struct.
@Suite struct GoJSONTests {
    private struct Network: Encodable {
        var name = "ingress"
        var id = "1qc6vhwhaeqn"
        var created = Date(timeIntervalSince1970: 1_490_622_473)
        var enableIPv6 = false
        var ipam = IPAM()
        var vxlan: UInt32 = 4096
        var ratio = 0.5
        var whole = 3.0
        var labels: [String] = []
        var peers: [Peer] = [Peer(), Peer(name: "b<&>")]
        var missing: String?

        struct IPAM: Encodable {
            var options: [String: String]?
            var config = [["Subnet": "10.255.0.0/16"]]
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encodeNil(forKey: .options)
                try container.encode(config, forKey: .config)
            }
            enum CodingKeys: String, CodingKey { case options = "Options", config = "Config" }
        }
        struct Peer: Encodable {
            var name = "a"
            enum CodingKeys: String, CodingKey { case name = "Name" }
        }
        enum CodingKeys: String, CodingKey {
            case name = "Name", id = "Id", created = "Created", enableIPv6 = "EnableIPv6", ipam = "IPAM", vxlan = "VXLAN"
            case ratio = "Ratio", whole = "Whole", labels = "Labels", peers = "Peers", missing = "Missing"
        }
    }

    @Test func membersKeepTheirOrderInGosLayout() throws {
        #expect(try GoJSON.indented([Network()]) == """
        [
            {
                "Name": "ingress",
                "Id": "1qc6vhwhaeqn",
                "Created": "2017-03-27T13:47:53Z",
                "EnableIPv6": false,
                "IPAM": {
                    "Options": null,
                    "Config": [
                        {
                            "Subnet": "10.255.0.0/16"
                        }
                    ]
                },
                "VXLAN": 4096,
                "Ratio": 0.5,
                "Whole": 3,
                "Labels": [],
                "Peers": [
                    {
                        "Name": "a"
                    },
                    {
                        "Name": "b\\u003c\\u0026\\u003e"
                    }
                ]
            }
        ]
        """)
    }

    @Test func emptyContainersAndScalarsStandAlone() throws {
        #expect(try GoJSON.indented([String: Int]()) == "{}")
        #expect(try GoJSON.indented([Int]()) == "[]")
        #expect(try GoJSON.indented(["b": 2, "a": 1, "c": 3]) == "{\n    \"a\": 1,\n    \"b\": 2,\n    \"c\": 3\n}")
        #expect(try GoJSON.indented("a\"b") == #""a\"b""#)
        #expect(try GoJSON.indented(Double.nan) == "null")
        #expect(try GoJSON.indented([1, 2], indent: "  ") == "[\n  1,\n  2\n]")
    }

    @Test func quotingFollowsStrconvOrEncodingJSON() {
        #expect(GoQuote.quoted("a\"b\\c\n\u{1}\u{7f}<&>é") == #""a\"b\\c\n\x01\x7f<&>é""#)
        #expect(GoQuote.json("a\"b\\c\n\u{1}\u{7f}<&>é") == "\"a\\\"b\\\\c\\n\\u0001\u{7f}\\u003c\\u0026\\u003eé\"")
    }
}
