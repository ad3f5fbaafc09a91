import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// The SMS method and the recovery phone: a number, a texted code, and removing the recovery phone (SPEC F5, F8).
struct PhoneEnrolmentController: Sendable {
    let services: Services
    let pages: Pages
    let cookies: CookieNames

    private var sessions: SessionService { services.sessions }
    private var twoFactor: TwoFactorService { services.twoFactor }
    private var devices: TrustedDeviceService { services.devices }
    private var guards: ProfileGuards { ProfileGuards(services: services) }

    func addRoutes(to profile: RouterGroup<SignedInContext>) {
        addPhoneRoutes(to: profile, path: "sms", kind: .sms)
        addPhoneRoutes(to: profile, path: "recovery-phone", kind: .recoveryPhone)
        profile.post("two-factor/recovery-phone/remove", use: removeRecoveryPhone)
    }

    private struct PhoneForm: Decodable {
        let phone: String?
        let code: String?
        let trust: String?
    }

    /// Enter a number → a code is texted → type it back. The SMS method and the recovery phone
    /// share every step (SPEC F8: "exactly like the SMS method").
    private func addPhoneRoutes(to group: RouterGroup<SignedInContext>, path: String, kind: FactorKind) {
        let base = "/profile/two-factor/\(path)"
        group.get("two-factor/\(path)") { _, context in
            try await guards.requireEnrolmentAllowed(context, kind: kind, returnTo: base)
            return pages.render(phonePage(context, kind: kind, path: path))
        }
        group.post("two-factor/\(path)") { request, context in
            try await guards.requireEnrolmentAllowed(context, kind: kind, returnTo: base)
            let form = try await request.decodeForm(as: PhoneForm.self, context: context)
            var page = phonePage(context, kind: kind, path: path)
            page.phoneValue = form.phone ?? ""
            guard let phone = PhoneNumber(form.phone ?? "") else {
                page.error = "Enter the number in international form, starting with + and the country code, e.g. +31 6 1234 5678."
                return pages.render(page, status: .unprocessableContent)
            }
            let result = try await twoFactor.startPhoneEnrolment(for: context.user, phone: phone, kind: kind)
            let (notice, error) = Format.smsResult(result, limits: twoFactor.smsCodes.limits)
            guard error == nil else {
                page.error = error
                return pages.render(page, status: Format.smsStatus(result))
            }
            return try await renderPhoneVerify(context, kind: kind, path: path, notice: notice, error: nil)
        }
        group.get("two-factor/\(path)/verify") { _, context in
            try await renderPhoneVerify(context, kind: kind, path: path, notice: nil, error: nil)
        }
        group.post("two-factor/\(path)/resend") { _, context in
            guard let result = try await twoFactor.resendEnrolmentCode(for: context.user, kind: kind) else { throw WebRedirect(to: base) }
            let (notice, error) = Format.smsResult(result, limits: twoFactor.smsCodes.limits)
            return try await renderPhoneVerify(context, kind: kind, path: path, notice: notice, error: error)
        }
        group.post("two-factor/\(path)/activate") { request, context in
            let form = try await request.decodeForm(as: PhoneForm.self, context: context)
            let activation = try await services.enrolments.activate(
                kind,
                code: form.code ?? "",
                trustDevice: form.trust == "on",
                session: context.session,
                user: context.user
            )
            switch activation {
            case .activated(let deviceToken):
                // An SMS method set up for an application's sign-in goes back to it (issue 14); a recovery phone is no method.
                let done = kind == .sms ? "/profile/two-factor?done=enabled" : "/profile/two-factor?done=recovery-phone"
                let next = kind == .sms ? SignInContinuation(cookies: cookies, policy: services.returnAddresses).next(request, fallback: done) : done
                var response = Response.redirect(to: next, type: .normal)
                if let deviceToken { response.setCookie(cookies.make(cookies.trustedDevice, value: deviceToken, maxAge: Int(devices.lifetime))) }
                return response
            case .wrongCode:
                return try await renderPhoneVerify(
                    context,
                    kind: kind,
                    path: path,
                    notice: nil,
                    error: "That code is not right, or it expired. Check the text message, or send a new code.",
                    status: .unprocessableContent
                )
            case .expired:
                throw WebRedirect(to: base)
            }
        }
    }

    private static func phoneTitle(_ kind: FactorKind) -> String {
        kind == .sms ? "Enable SMS" : "Add recovery phone number"
    }

    private func phonePage(_ context: SignedInContext, kind: FactorKind, path: String) -> PhonePage {
        PhonePage(frame: .profile(Self.phoneTitle(kind), context), path: path, isSMS: kind == .sms)
    }

    private func renderPhoneVerify(
        _ context: SignedInContext,
        kind: FactorKind,
        path: String,
        notice: String?,
        error: String?,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        guard let pending = try await twoFactor.pendingPhone(for: context.user, kind: kind) else {
            throw WebRedirect(to: "/profile/two-factor/\(path)")
        }
        let page = PhoneVerifyPage(
            frame: .profile(Self.phoneTitle(kind), context),
            path: path,
            isSMS: kind == .sms,
            trustDays: devices.trustDays,
            maskedPhone: pending.phone.flatMap(PhoneNumber.init)?.masked,
            notice: notice,
            error: error
        )
        return pages.render(page, status: error == nil ? status : (status == .ok ? .tooManyRequests : status))
    }

    private func removeRecoveryPhone(_ request: Request, context: SignedInContext) async throws -> Response {
        try guards.requireAccess(.recoveryPhone, context, next: "/profile/two-factor", then: .removeRecoveryPhone)
        return try await guards.perform(.removeRecoveryPhone, context.user)
    }
}
