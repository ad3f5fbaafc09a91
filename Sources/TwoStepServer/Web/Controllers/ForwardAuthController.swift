import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let remoteUser = Self("Remote-User")!
    static let remoteEmail = Self("Remote-Email")!
    static let remoteMethods = Self("Remote-Methods")!
    static let xOriginalURL = Self("X-Original-URL")!
}

/// `GET /auth/verify` for reverse proxies' forward-auth (issue 14); the rules are in `ForwardAuthService`.
struct ForwardAuthController: Sendable {
    let forwardAuth: ForwardAuthService

    func addRoutes(to router: RouterGroup<TwoStepRequestContext>) {
        router.get("/auth/verify") { request, context in
            let decision = try await forwardAuth.verify(
                session: context.session,
                user: context.user,
                originalURL: request.headers[.xOriginalURL]
            )
            switch decision {
            case .allowed(let user, let email, let methods):
                return Response(status: .ok, headers: [.remoteUser: user, .remoteEmail: email, .remoteMethods: methods, .cacheControl: "no-store"])
            case .refused(let signIn):
                // nginx: `auth_request_set $signin $upstream_http_location; error_page 401 =302 $signin;`
                var headers: HTTPFields = [.cacheControl: "no-store"]
                if let signIn { headers[.location] = signIn }
                return Response(status: .unauthorized, headers: headers)
            }
        }
    }
}
