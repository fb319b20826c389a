import FoundationEssentials
import ShoalAPI

/// One request of the local API, as handlers see it.
public struct APIRequest: Sendable {
    public var method: String
    /// The path without its query.
    public var path: String
    public var query: [String: String]
    public var body: [UInt8]

    /// Decodes the JSON body and checks its values, or fails with a 400 naming the first problem.
    public func decode<Body: ValidatedRequest>(_ type: Body.Type) throws -> Body {
        let body = try decodeJSON(type)
        try body.validate()
        return body
    }

    /// Decodes the JSON body, or fails with a 400 naming what was wrong.
    public func decode<Body: Decodable>(_ type: Body.Type) throws -> Body { try decodeJSON(type) }

    private func decodeJSON<Body: Decodable>(_ type: Body.Type) throws -> Body {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw APIError(status: 400, message: "malformed request body for \(method) \(path)")
        }
    }
}

/// One answer of the local API.
public struct APIResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public static func json<Value: Encodable>(_ value: Value, status: Int = 200) throws -> APIResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return APIResponse(status: status, contentType: "application/json", body: Array(try encoder.encode(value)))
    }

    public static func text(_ text: String, status: Int = 200) -> APIResponse {
        APIResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }
}

/// An error a handler throws to answer with a status and a one-line message.
public struct APIError: Error, Sendable {
    public var status: Int
    public var message: String

    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }
}

/// Maps method and path to a handler. Exact paths only; the API is small.
public struct HTTPRouter: Sendable {
    public typealias Handler = @Sendable (APIRequest) async throws -> APIResponse

    private var routes: [String: Handler] = [:]

    public init() {}

    public mutating func add(_ method: String, _ path: String, _ handler: @escaping Handler) {
        routes["\(method) \(path)"] = handler
    }

    /// Answers a request; never throws: errors become JSON error answers.
    public func respond(to request: APIRequest) async -> APIResponse {
        guard let handler = routes["\(request.method) \(request.path)"] else {
            let known = routes.keys.contains { $0.hasSuffix(" \(request.path)") }
            return Self.errorResponse(known ? 405 : 404,
                                 known ? "method \(request.method) not allowed on \(request.path)"
                                       : "no such endpoint: \(request.path)")
        }
        do {
            return try await handler(request)
        } catch let error as APIError {
            return Self.errorResponse(error.status, error.message)
        } catch let error as ShoalError {
            return Self.errorResponse(400, error.message)
        } catch {
            return Self.errorResponse(500, "\(error)")
        }
    }

    static func errorResponse(_ status: Int, _ message: String) -> APIResponse {
        (try? .json(APIErrorBody(message: message), status: status)) ?? .text(message, status: status)
    }
}
