import Hummingbird
import TwoStepStore

/// Finds the browser's session and its user, and clears the cookie of a session that has ended.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = TwoStepRequestContext
    let sessions: SessionService
    let store: any UserRepository
    let cookies: CookieNames

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        guard let id = request.cookies[cookies.session]?.value, !id.isEmpty else {
            return try await next(request, context)
        }
        if let session = try await sessions.resolve(id), let user = try await store.user(id: session.userID) {
            context.session = session
            context.user = user
            RequestOrigin.trace?.identify(userID: user.id)
            return try await next(request, context)
        }
        var response = try await Self.response(next, request, context)
        if !response.headers[values: .setCookie].contains(where: { $0.hasPrefix(cookies.session + "=") }) {
            response.setCookie(cookies.expired(cookies.session))
        }
        return response
    }
}
