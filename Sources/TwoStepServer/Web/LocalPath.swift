/// Where a form may send the browser after it is done: a path on this site, never another site
/// (OWASP Unvalidated Redirects and Forwards). Browsers read `//evil.example`, `/\evil.example`
/// and `/<tab>/evil.example` as another host, and `https://evil` is one; so only plain path
/// characters are accepted, the path must start with one `/`, and it may not climb with `..`.
enum LocalPath {
    /// `text` if it is a safe local path under `/profile`, else `nil`.
    static func profile(_ text: String?) -> String? {
        guard let path = validated(text), path == "/profile" || path.hasPrefix("/profile/") || path.hasPrefix("/profile?") else { return nil }
        return path
    }

    /// `text` if it is a safe local path under `/profile` or the help-desk console's `/admin`: staff
    /// confirm it's them on the profile's "Confirm it’s you" page, then go back to the console (issue 18).
    static func afterConfirmation(_ text: String?) -> String? {
        if let path = profile(text) { return path }
        guard let path = validated(text), path == "/admin" || path.hasPrefix("/admin/") || path.hasPrefix("/admin?") else { return nil }
        return path
    }

    /// `text` if it is a path on this site made only of letters, digits and `/ - _ . ? = &`.
    static func validated(_ text: String?) -> String? {
        guard let text, text.utf8.count <= 200, text.hasPrefix("/"), !text.hasPrefix("//"), !text.contains("..") else { return nil }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.?=&".utf8)
        guard text.utf8.allSatisfy(allowed.contains) else { return nil }
        return text
    }
}
