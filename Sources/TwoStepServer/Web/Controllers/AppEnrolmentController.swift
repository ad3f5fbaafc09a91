import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// **Enable** → **App**: the key as a QR code, then the code that activates it (SPEC F4, F6).
struct AppEnrolmentController: Sendable {
    let services: Services
    let pages: Pages
    let cookies: CookieNames

    private var sessions: SessionService { services.sessions }
    private var twoFactor: TwoFactorService { services.twoFactor }
    private var devices: TrustedDeviceService { services.devices }
    private var guards: ProfileGuards { ProfileGuards(services: services) }

    func addRoutes(to profile: RouterGroup<SignedInContext>) {
        profile.get("two-factor/enable", use: chooseMethod)
        profile.post("two-factor/app", use: startApp)
        profile.get("two-factor/app", use: showApp)
        profile.post("two-factor/app/activate", use: activateApp)
    }

    /// The method choice; also "Set up two-factor authentication to continue" when the 2FA policy
    /// asks for a method (issue 18), with **Not now** and the days left while in grace.
    private func chooseMethod(_ request: Request, context: SignedInContext) async throws -> Response {
        var offered: [FactorKind] = []
        for kind in [FactorKind.totp, .sms] {
            if try await twoFactor.enrolmentStart(kind, for: context.user) == .allowed { offered.append(kind) }
        }
        if offered.isEmpty, try await twoFactor.isEnabled(for: context.user) { throw WebRedirect(to: "/profile/two-factor") }
        try guards.requireAccess(.addMethod(offered.first ?? .totp), context, next: "/profile/two-factor/enable")
        var page = EnablePage(frame: .profile("Enable Two-Factor Authentication", context), app: offered.contains(.totp), sms: offered.contains(.sms))
        page.key = services.twoFactor.allowedMethods.contains(.key)
        if let demand = SignInService.EnrolmentDemand(try await services.policy.standing(of: context.user)) {
            page.required = true
            page.switching = demand.reason == .onlyDisallowedMethods
            if let deadline = demand.deadline {
                let days = TwoFactorPolicy.daysLeft(until: deadline, now: services.accounts.now())
                page.notNow = true
                page.daysLeft = days == 1 ? "1 day left" : "\(days) days left"
                page.deadline = Format.minute(deadline)
            }
        }
        return pages.render(page)
    }

    private func startApp(_ request: Request, context: SignedInContext) async throws -> Response {
        try await guards.requireEnrolmentAllowed(context, kind: .totp, returnTo: "/profile/two-factor/enable")
        _ = try await twoFactor.startAppEnrolment(for: context.user)
        return .redirect(to: "/profile/two-factor/app", type: .normal)
    }

    /// The key is a secret until it is activated: showing it again needs the same proof as making it.
    private func showApp(_ request: Request, context: SignedInContext) async throws -> Response {
        try guards.requireAccess(.addMethod(.totp), context, next: "/profile/two-factor/app")
        guard let enrolment = try await twoFactor.pendingAppEnrolment(for: context.user) else {
            throw WebRedirect(to: "/profile/two-factor/enable")
        }
        return pages.render(appPage(context, enrolment))
    }

    private func appPage(_ context: SignedInContext, _ enrolment: TwoFactorService.AppEnrolment, error: String? = nil) -> AppPage {
        AppPage(
            frame: .profile("Set up your authenticator app", context),
            qrSVG: enrolment.qrSVG,
            manualKey: enrolment.manualKey,
            expires: Format.minute(enrolment.expiresAt),
            trustDays: devices.trustDays,
            error: error
        )
    }

    private struct CodeForm: Decodable {
        let code: String?
        let trust: String?
    }

    private func activateApp(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await request.decodeForm(as: CodeForm.self, context: context)
        let activation = try await services.enrolments.activate(
            .totp,
            code: form.code ?? "",
            trustDevice: form.trust == "on",
            session: context.session,
            user: context.user
        )
        switch activation {
        case .activated(let deviceToken):
            // Back to the application whose sign-in sent the account here to set up a method (issue 14).
            let next = SignInContinuation(cookies: cookies, policy: services.returnAddresses).next(
                request,
                fallback: "/profile/two-factor?done=enabled"
            )
            var response = Response.redirect(to: next, type: .normal)
            if let deviceToken { response.setCookie(cookies.make(cookies.trustedDevice, value: deviceToken, maxAge: Int(devices.lifetime))) }
            return response
        case .wrongCode:
            guard let enrolment = try await twoFactor.pendingAppEnrolment(for: context.user) else {
                throw WebRedirect(to: "/profile/two-factor/enable")
            }
            let error = "That code is not right. Check that the app shows TwoStep (\(context.user.name)) and enter its current code."
            return pages.render(appPage(context, enrolment, error: error), status: .unprocessableContent)
        case .expired:
            throw WebRedirect(to: "/profile/two-factor/enable")
        }
    }
}
