import Foundation
import HTTPTypes
import Hummingbird
import TwoStepStore

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
    /// Also the answer for an account outside the API key's reach: the same status and body, so a
    /// key cannot tell "out of reach" from "nobody".
    static let unknownUser = APIError(.notFound, "unknown_user", "No account has that name.")

    static let signUpClosed = APIError(.forbidden, "signup_closed", "This server does not take sign-ups; ask its operator for an account.")

    static func scopeMissing(_ scope: APIKeyScope) -> APIError {
        APIError(.forbidden, "scope_missing", "This API key may not use this route: it needs the scope \(scope.rawValue).")
    }

    /// Too many wrong passwords for this address or from this client (SPEC §2): 429, with
    /// `Retry-After` unless only an operator can unlock; the same for an address without an account.
    static func tooManyPasswordAttempts(retryAt: Date?, now: Date) -> APIError {
        guard let retryAt else {
            return APIError(.tooManyRequests, "too_many_attempts", "Too many wrong passwords: ask an operator to unlock the account.")
        }
        return APIError(
            .tooManyRequests,
            "too_many_attempts",
            "Too many wrong passwords. Try again after the time given.",
            retryAt: retryAt,
            now: now
        )
    }

    static func invalidField(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, "invalid_field", "\(field): \(message)")
    }
}
