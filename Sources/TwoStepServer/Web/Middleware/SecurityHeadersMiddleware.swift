import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let strictTransportSecurity = Self("Strict-Transport-Security")!
}

/// Headers every response carries (SPEC §2; OWASP Secure Headers): no inline script, no framing
/// (clickjacking the Disable button), no MIME sniffing, no referrer, and no caching of pages that
/// may hold a key or codes.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// HSTS (RFC 6797): after one visit over HTTPS the browser never tries plain HTTP again, so a
    /// network attacker cannot strip TLS and read the session cookie. Off only with insecure cookies.
    let strictTransportSecurity: Bool

    /// Script only from this server's own files (the one `WebAuthnScript`), never inline, so markup an
    /// attacker slips into a page cannot run; `default-src 'none'` also leaves the script no `connect-src`.
    static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await Self.response(next, request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.xFrameOptions] = "DENY"
        if strictTransportSecurity { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

extension RouterMiddleware where Context: RequestContext {
    /// The response from the rest of the chain, with an HTTP error (a redirect, a 403) turned into
    /// its response here, so this middleware can still add headers and cookies to it.
    static func response(
        _ next: (Request, Context) async throws -> Response,
        _ request: Request,
        _ context: Context
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        }
    }
}
