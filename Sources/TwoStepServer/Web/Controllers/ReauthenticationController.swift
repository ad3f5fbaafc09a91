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

    private func confirmPage(_ context: SignedInContext, next: String?, error: String? = nil) -> ConfirmPage {
        ConfirmPage(frame: .profile("Confirm it’s you", context), next: LocalPath.afterConfirmation(next) ?? "/profile/two-factor", error: error)
    }

    private func confirm(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await request.decodeForm(as: ConfirmForm.self, context: context)
        // Only paths inside the profile and the console are followed, so the form cannot send anyone to another site.
        let next = LocalPath.afterConfirmation(form.next) ?? "/profile/two-factor"
        let proof: TwoFactorService.Proof
        switch try await signIns.reauthenticate(session: context.session, user: context.user, password: form.password, code: form.code) {
        case .confirmed(let sessionID):
            var response = Response.redirect(to: next, type: .normal)
            if let then = ProfileGuards.Continuation(next: next) {
                response = try await ProfileGuards(services: services).perform(then, context.user)
            }
            response.setCookie(cookies.make(cookies.session, value: sessionID))
            return response
        case .refused(let refusal): proof = refusal
        }
        let page = confirmPage(context, next: next, error: Format.refusal(proof, now: accounts.now()))
        return pages.render(page, status: proof == .proofMissing ? .unprocessableContent : .unauthorized)
    }
}
