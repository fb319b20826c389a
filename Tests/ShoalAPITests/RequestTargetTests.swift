import Testing
@testable import ShoalAPI

@Suite struct RequestTargetTests {
    @Test func plainTargetsParse() throws {
        let target = try #require(RequestTarget(parsing: "/tasks?service=web&node=lab-2"))
        #expect(target == RequestTarget(path: "/tasks", query: ["service": "web", "node": "lab-2"]))
        #expect(RequestTarget(parsing: "/_ping") == RequestTarget(path: "/_ping"))
        #expect(RequestTarget(parsing: "/tasks?") == RequestTarget(path: "/tasks"))
        #expect(RequestTarget(parsing: "/tasks?flag") == RequestTarget(path: "/tasks", query: ["flag": ""]))
    }

    @Test(arguments: ["/tasks?=", "/tasks?=x", "/x?%", "/x?a=%4", "/x?a=%zz", "/%", "/x?a=1&a=2", "/x?a=%ff", "?=", "?&="])
    func malformedTargetsAreRefusedNotTrappedOn(_ text: String) {
        #expect(RequestTarget(parsing: text) == nil)
    }

    @Test func whatAUserTypesStaysInItsOneValue() throws {
        for typed in ["x&node=y", "&=", "a b", "100%", "é/?#", "=", ""] {
            let sent = RequestTarget(path: "/tasks", query: ["service": typed])
            #expect(!sent.encoded.contains(" "))
            let received = try #require(RequestTarget(parsing: sent.encoded))
            #expect(received.query == ["service": typed], "typed: \(typed)")
        }
    }

    @Test func theInjectionNoLongerAddsAFilter() throws {
        let encoded = RequestTarget(path: "/tasks", query: ["service": "x&node=y"]).encoded
        #expect(encoded == "/tasks?service=x%26node%3Dy")
        #expect(RequestTarget(parsing: encoded)?.query["node"] == nil)
    }
}
