import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// "Confirm it’s you": the password or a current code again before a sensitive change (SPEC §2).
struct ReauthenticationController: Sendable {
    let services: Services
    let pages: Pages
    let cookies: CookieNames

    private var accounts: AccountService { services.accounts }
    private var signIns: SignInService { services.signIns }

    func addRoutes(to profile: RouterGroup<SignedInContext>) {
        profile.get("confirm") { request, context in
            pages.render(confirmPage(context, next: request.uri.queryParameters["next"].map(String.init)))
        }
        profile.post("confirm", use: confirm)
    }

    private struct ConfirmForm: Decodable {
        let password: String?
        let code: String?
        let next: String?
    }

    /// Only paths inside the profile are followed after confirming, so the form cannot be used to
    /// send someone to another site.
    private static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/profile/"), !next.contains("//"), !next.contains("\\"), !next.contains("@") else {
            return "/profile/two-factor"
        }
        return next
    }

    private func confirmPage(_ context: SignedInContext, next: String?, error: String? = nil) -> ConfirmPage {
        ConfirmPage(frame: .profile("Confirm it’s you", context), next: Self.safeNext(next), error: error)
    }

    private func confirm(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await request.decodeForm(as: ConfirmForm.self, context: context)
        let next = Self.safeNext(form.next)
        let proof = try await signIns.reauthenticate(session: context.session, user: context.user, password: form.password, code: form.code)
        guard proof != .confirmed else { return .redirect(to: next, type: .normal) }
        let page = confirmPage(context, next: next, error: Format.refusal(proof, now: accounts.now()))
        return pages.render(page, status: proof == .proofMissing ? .unprocessableContent : .unauthorized)
    }
}
