import Foundation
import HTTPTypes
import HummingbirdCore
import Testing

@testable import TwoStepServer

@Suite("Pages: templates compiled at start-up, typed page data")
struct PagesTests {
    /// The embedded templates with one replaced (or, given `nil`, removed).
    private static func sources(replacing name: Template, with text: String?) -> [String: String] {
        var sources = Template.embedded
        sources[name.rawValue] = text
        return sources
    }

    private static func loadError(_ sources: [String: String], sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            _ = try Pages(sources: sources)
            Issue.record("the templates loaded", sourceLocation: sourceLocation)
            return ""
        } catch {
            return error.description
        }
    }

    @Test func everyEmbeddedTemplateCompiles() throws {
        _ = try Pages()
        #expect(Set(Template.embedded.keys) == Set(Template.allCases.map(\.rawValue)))
    }

    @Test func aMissingTemplateStopsTheStart() {
        #expect(Self.loadError(Self.sources(replacing: .twoFactor, with: nil)).contains("two-factor is missing"))
        #expect(Self.loadError(Self.sources(replacing: .csrfField, with: nil)).contains("csrf-field"))
    }

    @Test func aBrokenTemplateStopsTheStart() {
        let unclosed = Self.loadError(Self.sources(replacing: .twoFactor, with: "{{#enabled}}never closed"))
        #expect(unclosed.contains("two-factor does not parse"))
        let mismatched = Self.loadError(Self.sources(replacing: .signIn, with: "{{#error}}{{/notice}}"))
        #expect(mismatched.contains("signin does not parse"))
    }

    @Test func aPartialOrParentThatDoesNotExistStopsTheStart() {
        let partial = Self.loadError(Self.sources(replacing: .disable, with: "{{<layout}}{{$body}}{{>no-such-partial}}{{/body}}{{/layout}}"))
        #expect(partial.contains("disable uses no-such-partial"))
        let parent = Self.loadError(Self.sources(replacing: .enable, with: "{{<no-such-layout}}{{/no-such-layout}}"))
        #expect(parent.contains("enable uses no-such-layout"))
    }

    @Test func aPageWhoseTemplateIsMissingIsNeverA200() throws {
        let pages = try Pages(sources: [:], required: [])
        let response = pages.render(DisablePage(frame: PageFrame(title: "Disable", csrf: "t")))
        #expect(response.status == .internalServerError)
    }

    @Test func theProfileLayoutWrapsAPageWithTheMenuAndTheCSRFField() throws {
        let pages = try Pages()
        let frame = PageFrame(title: "Disable Two-Factor Authentication", csrf: "token-123", signedInAs: "ann@example.com", onTwoFactor: true)
        let html = try #require(pages.html(DisablePage(frame: frame, error: "That password is not right.")))
        #expect(html.contains("<title>Disable Two-Factor Authentication · TwoStep</title>"))
        #expect(html.contains(#"<a href="/profile/two-factor" aria-current="page">Two-Factor Authentication</a>"#))
        #expect(html.contains(#"<a href="/profile">Profile</a>"#))
        #expect(html.contains(#"<span class="who">ann@example.com</span>"#))
        #expect(html.contains(#"<p class="error" role="alert">That password is not right.</p>"#))
        // The sign-out form in the header and the Disable form both carry the token.
        #expect(html.components(separatedBy: #"<input type="hidden" name="csrf_token" value="token-123">"#).count == 3)
    }

    @Test func securityActivityShowsNoDashWithoutDetails() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("dash@example.com")
            try await browser.signOut()
            _ = try await browser.signIn("dash@example.com")
            let html = try await browser.get("/profile/two-factor").text
            #expect(html.contains("Account created</li>"), "\(html)")
            #expect(!html.contains("Account created —"))
            #expect(html.contains("Signed in — password</li>"), "details still shown when there are some")
        }
    }
}
