import Foundation
import Hummingbird
import Mustache
import NIOCore
import TwoStepStore

/// Renders the Mustache templates in `Resources/templates/` (compiled into the binary, so one file deploys).
///
/// Every template is compiled once, when the server starts: a template that does not parse, or that
/// names a partial or parent that does not exist, stops the server there instead of showing a broken
/// page later.
struct Pages: Sendable {
    private let library: MustacheLibrary

    /// Why the templates could not be loaded.
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// - Parameters:
    ///   - sources: Template text by name; the server uses the embedded files.
    ///   - required: Templates that must be present (each page's and each partial's).
    init(sources: [String: String] = Template.embedded, required: [Template] = Template.allCases) throws(LoadError) {
        var library = MustacheLibrary()
        for (name, text) in sources {
            do {
                try library.register(text, named: name)
            } catch {
                throw LoadError(description: "template \(name) does not parse: \(error)")
            }
        }
        for template in required where sources[template.rawValue] == nil {
            throw LoadError(description: "template \(template.rawValue) is missing")
        }
        // swift-mustache looks partials and parents up only while rendering, and renders a missing one
        // as nothing: check every `{{>name}}` and `{{<name}}` now.
        for (name, text) in sources {
            for reference in text.matches(of: /\{\{\s*[<>]\s*([^\s}]+)\s*\}\}/) where sources[String(reference.1)] == nil {
                throw LoadError(description: "template \(name) uses \(reference.1), which does not exist")
            }
        }
        self.library = library
    }

    /// An HTML response from a page's template. Values are HTML-escaped by Mustache unless a template
    /// uses triple braces (only for markup we generate, such as the QR code's SVG).
    func render(_ page: some PageContent, status: HTTPResponse.Status = .ok) -> Response {
        guard let html = html(page) else {
            // Unreachable once `init` has checked every template; never a 200 with a blank page.
            return Response(
                status: .internalServerError,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "This page is missing."))
            )
        }
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    /// The page's HTML, or `nil` when its template is not loaded.
    func html(_ page: some PageContent) -> String? {
        library.render(page, withTemplate: page.template.rawValue)
    }
}

/// A page's data: stored properties are what its template reads (swift-mustache reads them by
/// reflection, so only stored properties are visible to it).
protocol PageContent: Sendable {
    /// Which template shows it.
    var template: Template { get }
    /// What the layout around it reads.
    var frame: PageFrame { get }
}

/// What the layout reads around every page.
struct PageFrame: Sendable {
    let title: String
    /// The token every form on the page carries (`{{>csrf-field}}`).
    let csrf: String
    /// Shown in the header, beside **Sign out**, once someone is signed in.
    var signedInAs: String? = nil
    /// Which entry of the profile's left menu is the current page.
    var onProfile = false
    var onTwoFactor = false
    /// The WebAuthn script, on the pages with a security-key form only; every other page has no script.
    var script: ScriptTag? = nil
    /// Help-desk staff get a link to the console in the profile's menu (issue 18).
    var staff = false

    /// The same frame, loading the WebAuthn script (`WebAuthnScript`).
    func withWebAuthn() -> PageFrame {
        var frame = self
        frame.script = WebAuthnScript.tag
        return frame
    }

    /// A page of the profile, with its left menu.
    static func profile(_ title: String, _ context: SignedInContext, menu: ProfileMenu = .twoFactor) -> PageFrame {
        PageFrame(
            title: title,
            csrf: context.csrfToken,
            signedInAs: context.user.name,
            onProfile: menu == .profile,
            onTwoFactor: menu == .twoFactor,
            staff: context.user.role.isStaff
        )
    }
}

/// The entries of the profile's left menu (SPEC F3).
enum ProfileMenu {
    case profile, twoFactor
}
