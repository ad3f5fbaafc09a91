import Hummingbird
import TwoStepCore

/// Cross-site request forgery protection for every form (SPEC §2; OWASP CSRF cheat sheet,
/// double-submit cookie): each browser gets a random token in a `__Host-` cookie, every form
/// carries it in a hidden `csrf_token` field, and a POST whose field does not equal the cookie is
/// refused with 403. Another site can make the browser send the cookie, but cannot read it to
/// fill in the field; the `__Host-` prefix stops a sibling host from planting one.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = TwoStepRequestContext
    let cookies: CookieNames

    private struct Field: Decodable {
        let csrf_token: String?
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let existing = request.cookies[cookies.csrf]?.value.nilIfEmpty
        context.csrfToken = existing ?? RandomToken.generate()

        if request.method == .post {
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            let field = try? URLEncodedFormDecoder().decode(Field.self, from: String(buffer: body))
            guard let existing, let sent = field?.csrf_token, ConstantTime.equals(sent, existing) else {
                throw HTTPError(.forbidden, message: "This form has expired or did not come from this site. Go back, reload the page and try again.")
            }
        }
        var response = try await next(request, context)
        // A handler that replaced the token (sign-in, sign-out) has set the cookie itself.
        if existing == nil, !response.headers[values: .setCookie].contains(where: { $0.hasPrefix(cookies.csrf + "=") }) {
            response.setCookie(cookies.make(cookies.csrf, value: context.csrfToken))
        }
        return response
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
