import Foundation
import HTTPTypes
import Hummingbird
import TwoStepStore

/// Reads `Authorization: Bearer …` on API requests: a `tsk_` key of a relying service, or an
/// account holder's session token (the same sessions as the pages' cookie, SPEC §2). It only
/// identifies; the route's context type decides what is required.
struct BearerMiddleware: RouterMiddleware {
    typealias Context = TwoStepRequestContext
    let sessions: SessionService
    let apiKeys: APIKeyService
    let store: any UserRepository

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization], let token = Self.bearerToken(header) {
            if token.hasPrefix(APIKeyService.prefix) {
                context.apiKey = try await apiKeys.authenticate(token)
                if let key = context.apiKey { RequestOrigin.trace?.identify(apiKeyName: key.name) }
            } else if !token.isEmpty, let session = try await sessions.resolve(token), let user = try await store.user(id: session.userID) {
                context.session = session
                context.user = user
                RequestOrigin.trace?.identify(userID: user.id)
            }
        }
        return try await next(request, context)
    }

    /// The token of `Bearer <token>` (the scheme in any case, RFC 9110 §11.1), without the spaces
    /// around it; `nil` for another scheme or a header over 256 bytes. Read byte by byte: this runs
    /// on every API request, and Foundation's trimming was 2 % of a validate check (issue 19).
    static func bearerToken(_ header: String) -> String? {
        let bytes = header.utf8
        let scheme = "bearer ".utf8
        guard bytes.count <= 256, bytes.count >= scheme.count,
            zip(bytes, scheme).allSatisfy({ byte, expected in (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == expected })
        else { return nil }
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let rest = bytes.dropFirst(scheme.count).drop(while: isSpace)
        guard let last = rest.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(Substring(rest[...last]))
    }
}

/// An API request from a signed-in account holder (a bearer session past both steps).
struct AccountAPIContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let session: Session
    let user: User

    init(context: TwoStepRequestContext) throws {
        guard let session = context.session, session.stage == .signedIn, let user = context.user else { throw APIError.unauthorized }
        self.coreContext = context.coreContext
        self.session = session
        self.user = user
    }

    var maxUploadSize: Int { 64 * 1024 }
}

/// An API request from a relying service with a live API key.
struct ServiceAPIContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let apiKey: APIKey

    init(context: TwoStepRequestContext) throws {
        guard let apiKey = context.apiKey else { throw APIError.unauthorized }
        self.coreContext = context.coreContext
        self.apiKey = apiKey
    }

    var maxUploadSize: Int { 64 * 1024 }
}
