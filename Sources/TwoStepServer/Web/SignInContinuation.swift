import Foundation
import Hummingbird

/// Carries the return address (`rd`, or an authorization request waiting for a sign-in) across the
/// sign-in steps and enrolment in a short-lived cookie, checked by `ReturnAddressPolicy` when it is
/// set and again when it is read, so a planted or edited cookie cannot send the browser elsewhere.
struct SignInContinuation: Sendable {
    let cookies: CookieNames
    let policy: ReturnAddressPolicy

    /// Long enough for a sign-in with a code sent by SMS, or an enrolment.
    static let lifetime = 15 * 60

    /// Remembers `address` (if the policy allows it) for after the sign-in.
    func remember(_ address: String?, in response: inout Response) {
        guard let address = policy.validated(address) else { return }
        let encoded = Data(address.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        response.setCookie(cookies.make(cookies.returnAddress, value: encoded, maxAge: Self.lifetime))
    }

    /// The remembered address, if there is one and it is still allowed.
    func address(_ request: Request) -> String? {
        guard let value = request.cookies[cookies.returnAddress]?.value, !value.isEmpty, value.utf8.count <= 4096 else { return nil }
        let standard = value.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard let data = Data(base64Encoded: standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)) else { return nil }
        return policy.validated(String(decoding: data, as: UTF8.self))
    }

    /// Where a finished sign-in goes: the page that continues to the remembered address, or `fallback`.
    func next(_ request: Request, fallback: String) -> String {
        address(request) == nil ? fallback : "/signin/continue"
    }
}
