import Testing
@testable import ShoalAPI

@Suite struct HTTPResponseTests {
    private func parse(_ text: String) -> HTTPResponse? { HTTPResponse(parsing: Array(text.utf8)) }

    @Test func parsesContentLengthBody() throws {
        let response = try #require(parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOKtrailing"))
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "text/plain")
        #expect(response.body == Array("OK".utf8))
    }

    @Test func decodesChunkedBody() throws {
        let response = try #require(parse("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nshoa\r\n1;ext=1\r\nl\r\n0\r\n\r\n"))
        #expect(response.status == 201)
        #expect(String(decoding: response.body, as: UTF8.self) == "shoal")
    }

    @Test func bodyRunsToTheEndWithoutALength() throws {
        let response = try #require(parse("HTTP/1.0 404 Not Found\r\n\r\nmissing"))
        #expect(response.status == 404)
        #expect(response.body == Array("missing".utf8))
    }

    @Test(arguments: [
        "",
        "HTTP/1.1 200 OK\r\n",                                   // no end of headers
        "SMTP 200 OK\r\n\r\n",                                   // not HTTP
        "HTTP/1.1 abc OK\r\n\r\n",                               // status not a number
        "HTTP/1.1 999 Nope\r\n\r\n",                             // status out of range
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",              // broken header
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",     // truncated body
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",          // negative length
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", // bad chunk size
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", // truncated chunk
    ])
    func refusesMalformedAnswers(_ text: String) {
        #expect(parse(text) == nil)
    }
}
