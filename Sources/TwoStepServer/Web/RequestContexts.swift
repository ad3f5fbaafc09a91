import HTTPTypes
public import Hummingbird
public import NIOCore
import TwoStepStore

/// What every request carries once the middleware has run: the session and its user, if any
/// (from the cookie, or the bearer token on the API), the CSRF token for forms, or the API key.
public struct TwoStepRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The socket's peer: the client, or the proxy in front of the server (see `ClientAddressMiddleware`).
    public let remoteAddress: SocketAddress?
    var session: Session?
    var user: User?
    var csrfToken = ""
    /// The relying service's key, on service API requests.
    var apiKey: APIKey?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    var peerAddress: String? { remoteAddress?.ipAddress }

    /// Forms are small; anything larger is refused before it is read (SPEC §2: huge bodies get a 4xx).
    public var maxUploadSize: Int { 64 * 1024 }
}

/// A request from a fully signed-in account holder. It cannot be made otherwise, so a page in
/// the signed-in group cannot forget the check.
struct SignedInContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let session: Session
    let user: User
    let csrfToken: String

    init(context: TwoStepRequestContext) throws {
        guard let session = context.session, session.stage == .signedIn, let user = context.user else {
            throw WebRedirect(to: "/signin")
        }
        self.coreContext = context.coreContext
        self.session = session
        self.user = user
        self.csrfToken = context.csrfToken
    }

    var maxUploadSize: Int { 64 * 1024 }
}

/// A request between the password and the security code.
struct SecondFactorContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let session: Session
    let user: User
    let csrfToken: String

    init(context: TwoStepRequestContext) throws {
        guard let session = context.session, session.stage == .awaitingSecondFactor, let user = context.user else {
            throw WebRedirect(to: context.session?.stage == .signedIn ? "/profile" : "/signin")
        }
        self.coreContext = context.coreContext
        self.session = session
        self.user = user
        self.csrfToken = context.csrfToken
    }

    var maxUploadSize: Int { 64 * 1024 }
}

/// Thrown to send the browser elsewhere (303 See Other).
struct WebRedirect: HTTPResponseError {
    let location: String

    init(to location: String) { self.location = location }

    var status: HTTPResponse.Status { .seeOther }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        .redirect(to: location, type: .normal)
    }
}

/// A session ended (signed out everywhere) while one of its requests was running: the browser
/// signs in again; the API answers 401.
extension SessionService.SessionEnded: HTTPResponseError {
    var status: HTTPResponse.Status { .unauthorized }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        guard !request.uri.path.hasPrefix("/api/") else { return try APIError.unauthorized.response(from: request, context: context) }
        return .redirect(to: "/signin", type: .normal)
    }
}
