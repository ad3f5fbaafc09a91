import Hummingbird

/// The cookies the web pages use, all `HttpOnly`, `SameSite=Lax` and path `/`, and `Secure` with
/// the `__Host-` prefix unless in dev mode, so no other host or plain-HTTP page can set or read them.
struct CookieNames: Sendable {
    let secure: Bool

    var session: String { name("session") }
    var csrf: String { name("csrf") }
    var trustedDevice: String { name("device") }

    private func name(_ base: String) -> String { secure ? "__Host-twostep-\(base)" : "twostep-\(base)" }

    func make(_ name: String, value: String, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    func expired(_ name: String) -> Cookie {
        make(name, value: "", maxAge: 0)
    }
}
