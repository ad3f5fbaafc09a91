import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Every JSON API failure: `{"error": {"code": "...", "message": "..."}}` with its status (SPEC §3),
/// and `Retry-After` when the client must wait.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var retryAt: Date?
    var now: Date?

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAt: Date? = nil, now: Date? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAt = retryAt
        self.now = now
    }

    private struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
            let retryAt: Date?
        }
        let error: Detail
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try API.json(Body(error: .init(code: code, message: message, retryAt: retryAt)), status: status)
        if let retryAt {
            let seconds = max(1, Int(retryAt.timeIntervalSince(now ?? Date()).rounded(.up)))
            response.headers[.retryAfter] = String(seconds)
        }
        return response
    }

    static let unauthorized = APIError(.unauthorized, "unauthorized", "Send a valid bearer token in the Authorization header.")
    static let reauthenticationRequired = APIError(
        .forbidden,
        "reauthentication_required",
        "Confirm your password or a security code at POST /api/v1/account/reauthenticate first."
    )
    static let unknownUser = APIError(.notFound, "unknown_user", "No account has that e-mail address.")

    static func invalidField(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, "invalid_field", "\(field): \(message)")
    }
}

/// JSON in and out of the API: snake_case keys, ISO 8601 times.
enum API {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value)))
        )
    }

    static func noContent() -> Response { Response(status: .noContent) }
}

extension Request {
    /// The JSON body as `T`: 413 when too large, 400 when it is not JSON (or not UTF-8), 422 naming
    /// the field when a value has the wrong type or a required one is missing. Unknown fields are ignored.
    func decodeJSON<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        var request = self
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        do {
            return try API.decoder.decode(type, from: Data(body.readableBytesView))
        } catch let error as DecodingError {
            switch error {
            case .typeMismatch(_, let where_) where where_.codingPath.isEmpty, .valueNotFound(_, let where_) where where_.codingPath.isEmpty:
                throw APIError(.badRequest, "malformed_json", "The body must be a JSON object.")
            case .typeMismatch(_, let where_), .valueNotFound(_, let where_):
                throw APIError.invalidField(Self.path(where_.codingPath), "has the wrong type or is null")
            case .keyNotFound(let key, let where_):
                throw APIError.invalidField(Self.path(where_.codingPath + [key]), "is required")
            case .dataCorrupted(let where_) where !where_.codingPath.isEmpty:
                throw APIError.invalidField(Self.path(where_.codingPath), "is not valid")
            default:
                throw APIError(.badRequest, "malformed_json", "The body must be a JSON object in UTF-8.")
            }
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue.snakeCased }.joined(separator: ".")
    }
}

extension String {
    /// `trustDevice` → `trust_device`, the way the API's fields are spelled.
    fileprivate var snakeCased: String {
        var result = ""
        for character in self {
            if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
        }
        return result
    }
}

/// Under `/api/`, every error leaves as the JSON error body: Hummingbird's own (404 no such route,
/// 405, 413 too large), and any unexpected one as a 500 that says nothing of its cause — the cause
/// goes to the log.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The API's routes, to tell "no such path" (404) from "not with this method" (405 with `Allow`).
    let routes: APIRouteList

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(forPath: request.uri.path)
            guard !allowed.isEmpty else {
                return try APIError(.notFound, "not_found", "There is no such API route.").response(from: request, context: context)
            }
            var response = try APIError(.methodNotAllowed, "method_not_allowed", "This route takes \(allowed.joined(separator: ", ")).")
                .response(from: request, context: context)
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        } catch let error as any HTTPResponseError {
            let code =
                switch error.status {
                case .contentTooLarge: "body_too_large"
                case .badRequest: "bad_request"
                default: "http_\(error.status.code)"
                }
            let message = (error as? HTTPError)?.body ?? error.status.reasonPhrase
            return try APIError(error.status, code, message).response(from: request, context: context)
        } catch {
            context.logger.error("API request failed", metadata: ["error": "\(error)"])
            return try APIError(.internalServerError, "internal", "Something went wrong on the server.").response(from: request, context: context)
        }
    }
}
