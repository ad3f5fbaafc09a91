import Crypto
import Foundation
import TwoStepCore

/// The one script TwoStep serves (`Resources/webauthn.js`): the browser half of security keys and
/// passkeys (issue 17), which cannot work without JavaScript. It comes from this server ('self' in
/// the CSP) and never inline, so an injected `<script>` still does not run (OWASP: CSP as a second
/// line against XSS).
enum WebAuthnScript {
    static let source = PackageResources.webauthn_js

    private static let digest = Array(SHA256.hash(data: source))

    /// The address carries the content's hash, so the browser may keep it for a year and an upgrade
    /// that changes the script is a new address (no page runs an old copy against new forms).
    static let path = "/static/webauthn-" + digest.prefix(8).hexEncoded() + ".js"

    /// Subresource Integrity (W3C SRI): a copy altered on the way, or by a cache, does not run.
    static let integrity = "sha256-" + Data(digest).base64EncodedString()

    /// What a page's `<head>` loads (`PageFrame.script`).
    static let tag = ScriptTag(src: path, integrity: integrity)
}

/// A `<script src>` the layout writes into a page's head.
struct ScriptTag: Sendable {
    let src: String
    let integrity: String
}
