import Hummingbird

/// The cookies the web pages use, all `HttpOnly`, `SameSite=Lax` and path `/`, and `Secure` with
/// the `__Host-` prefix unless in dev mode, so no other host or plain-HTTP page can set or read them.
///
/// With a cookie domain (`--cookie-domain example.com`, issue 14) the session cookie alone is sent to
/// every host under it, so a reverse proxy's forward-auth (`/auth/verify`) sees the sign-in made on
/// TwoStep's host. A `__Host-` cookie may not name a domain (RFC 6265bis §4.1.3.2), so that one
/// cookie becomes `__Secure-` (still `Secure`-only, but settable by any host under the domain); the
/// CSRF and trusted-device cookies keep `__Host-`.
struct CookieNames: Sendable {
    let secure: Bool
    /// The domain the session cookie covers; `nil` for TwoStep's own host only.
    var domain: String? = nil

    var session: String { domain == nil ? name("session") : (secure ? "__Secure-twostep-session" : "twostep-session") }
    var csrf: String { name("csrf") }
    var trustedDevice: String { name("device") }
    /// Where the browser returns after signing in (`rd`, or the authorization request), between the steps.
    var returnAddress: String { name("return") }

    private func name(_ base: String) -> String { secure ? "__Host-twostep-\(base)" : "twostep-\(base)" }

    func make(_ name: String, value: String, maxAge: Int? = nil) -> Cookie {
        let domain = name == session ? domain : nil
        return Cookie(name: name, value: value, maxAge: maxAge, domain: domain, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    func expired(_ name: String) -> Cookie {
        make(name, value: "", maxAge: 0)
    }
}
