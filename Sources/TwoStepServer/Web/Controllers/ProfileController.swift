import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// The profile dashboard: the account and its password (SPEC F1, F3).
struct ProfileController: Sendable {
    let services: Services
    let pages: Pages
    let cookies: CookieNames

    private var accounts: AccountService { services.accounts }
    private var twoFactor: TwoFactorService { services.twoFactor }

    func addRoutes(to profile: RouterGroup<SignedInContext>) {
        profile.get(use: showProfile)
        profile.post("password", use: changePassword)
        profile.post("signout-everywhere", use: signOutEverywhere)
    }

    /// "Sign out everywhere" (SPEC F14): this browser too, and every API token of the account.
    private func signOutEverywhere(_ request: Request, context: SignedInContext) async throws -> Response {
        try await accounts.signOutEverywhere(user: context.user)
        var response = Response.redirect(to: "/signin?done=signed-out-everywhere", type: .normal)
        response.setCookie(cookies.expired(cookies.session))
        return response
    }

    private func showProfile(_ request: Request, context: SignedInContext) async throws -> Response {
        try await pages.render(
            profilePage(context, notice: request.uri.queryParameters["done"] == "password" ? "Your password is changed." : nil)
        )
    }

    private func profilePage(_ context: SignedInContext, notice: String? = nil, error: String? = nil) async throws -> ProfilePage {
        ProfilePage(
            frame: .profile("Profile", context, menu: .profile),
            email: context.user.name,
            hasEmail: context.user.email != nil,
            verified: context.user.emailVerifiedAt != nil,
            memberSince: Format.minute(Date(unixTime: context.user.createdAt)),
            enabled: try await twoFactor.isEnabled(for: context.user),
            notice: notice,
            error: error
        )
    }

    private struct PasswordForm: Decodable {
        let current: String?
        let new: String?
    }

    private func changePassword(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await request.decodeForm(as: PasswordForm.self, context: context)
        switch try await accounts.changePassword(session: context.session, user: context.user, current: form.current ?? "", new: form.new ?? "") {
        case .success(let sessionID):
            var response = Response.redirect(to: "/profile?done=password", type: .normal)
            response.setCookie(cookies.expired(cookies.trustedDevice))
            response.setCookie(cookies.make(cookies.session, value: sessionID))
            return response
        case .failure(.wrongPassword):
            return pages.render(try await profilePage(context, error: "Your current password is not right."), status: .unprocessableContent)
        case .failure(.passwordLength):
            return pages.render(
                try await profilePage(context, error: "Choose a new password of \(AccountService.passwordRule)."),
                status: .unprocessableContent
            )
        case .failure(.tooManyAttempts(let retryAt)):
            let message = SignInController.tooManyAttempts(retryAt: retryAt, now: accounts.now())
            return pages.render(try await profilePage(context, error: message), status: .tooManyRequests)
        }
    }
}
