/// Where the browser may be sent once it has signed in (issue 14): the sign-in page's `rd`, the
/// authorization request waiting for a sign-in, and the address `/auth/verify` sends a stranger
/// back to. This is the one check for all of them (OWASP Unvalidated Redirects and Forwards).
///
/// Accepted: a path on this site (the pending `/oauth2/authorize?…` among them), or an absolute
/// `https` address whose host is the cookie domain or under it (forward-auth's applications).
/// Refused: everything a browser might read as another host: `//evil.example`, `/\evil.example`,
/// `https://evil.example@app.example.com` (a user part), `https://app.example.com.evil.example`,
/// `javascript:`, control characters, whitespace and backslashes anywhere.
struct ReturnAddressPolicy: Sendable {
    /// `--cookie-domain`, lower case without a leading dot; `nil`: absolute addresses are refused.
    let cookieDomain: String?
    /// `--insecure-cookies` (development on plain HTTP): `http` addresses too.
    let allowHTTP: Bool

    init(cookieDomain: String?, allowHTTP: Bool) {
        self.cookieDomain = cookieDomain.map { domain in
            let lower = domain.lowercased()
            return lower.hasPrefix(".") ? String(lower.dropFirst()) : lower
        }
        self.allowHTTP = allowHTTP
    }

    /// `text` if the browser may be sent there, else `nil`.
    func validated(_ text: String?) -> String? {
        guard let text, !text.isEmpty, text.utf8.count <= 2048,
            // Visible ASCII only: no spaces, tabs or newlines (browsers strip them and see `//`), no backslash
            // (browsers read it as `/`), nothing a header or a page could be split with.
            text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") && !"\"<>`{}|^".utf8.contains($0) })
        else { return nil }
        if text.hasPrefix("/") {
            // One slash, then not another: `//host` is another site.
            guard !text.hasPrefix("//"), !text.contains("/../"), !text.hasSuffix("/..") else { return nil }
            return text
        }
        return isApplicationAddress(text) ? text : nil
    }

    /// An absolute address of an application under the cookie domain.
    private func isApplicationAddress(_ text: String) -> Bool {
        guard let cookieDomain else { return false }
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = lower.dropFirst(8)
        } else if allowHTTP, lower.hasPrefix("http://") {
            rest = lower.dropFirst(7)
        } else {
            return false
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        // `user@host`: the browser goes to `host`, and a reader of the address sees `user`.
        guard !authority.contains("@") else { return false }
        let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let host = parts[0]
        if parts.count == 2 {
            guard (1...5).contains(parts[1].count), parts[1].allSatisfy(\.isASCIIDigit), let port = Int(parts[1]), (1...65_535).contains(port)
            else { return false }
        }
        guard !host.isEmpty, !host.hasPrefix("."), !host.hasSuffix("."), !host.contains(".."),
            host.allSatisfy({ $0.isASCIIDigit || ("a"..."z").contains($0) || $0 == "." || $0 == "-" })
        else { return false }
        return host == cookieDomain || host.hasSuffix("." + cookieDomain)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
