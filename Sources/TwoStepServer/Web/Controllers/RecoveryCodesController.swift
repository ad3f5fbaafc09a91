import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// **Generate tokens**, **Show**, **Print** and download of recovery codes (SPEC F9).
struct RecoveryCodesController: Sendable {
    let services: Services
    let pages: Pages
    let cookies: CookieNames

    private var accounts: AccountService { services.accounts }
    private var twoFactor: TwoFactorService { services.twoFactor }
    private var recoveryCodes: RecoveryCodeService { services.recoveryCodes }
    private var guards: ProfileGuards { ProfileGuards(services: services) }

    func addRoutes(to profile: RouterGroup<SignedInContext>) {
        profile.post("two-factor/recovery-codes", use: generateRecoveryCodes)
        profile.get("two-factor/recovery-codes", use: showRecoveryCodes)
        profile.get("two-factor/recovery-codes/print", use: printRecoveryCodes)
        profile.get("two-factor/recovery-codes/download", use: downloadRecoveryCodes)
    }

    private func generateRecoveryCodes(_ request: Request, context: SignedInContext) async throws -> Response {
        guard try await twoFactor.recoveryCodeGeneration(for: context.user) == .allowed else { throw WebRedirect(to: "/profile/two-factor") }
        try guards.requireAccess(.generateRecoveryCodes, context, next: "/profile/two-factor", then: .generateRecoveryCodes)
        let codes = try await recoveryCodes.generate(for: context.user)
        return pages.render(RecoveryCodesPage(frame: .profile("Your new recovery codes", context), fresh: true, codes: codes.map(\.description)))
    }

    private func showRecoveryCodes(_ request: Request, context: SignedInContext) async throws -> Response {
        try guards.requireAccess(.revealRecoveryCodes, context, next: "/profile/two-factor/recovery-codes")
        let codes = try await recoveryCodes.unusedCodes(of: context.user)
        // After "Confirm it's you" performed Generate tokens, these are the new codes.
        let fresh = request.uri.queryParameters["done"] == "generated"
        let title = fresh ? "Your new recovery codes" : "Your recovery codes"
        return pages.render(RecoveryCodesPage(frame: .profile(title, context), fresh: fresh, codes: codes.map(\.description)))
    }

    private func printRecoveryCodes(_ request: Request, context: SignedInContext) async throws -> Response {
        try guards.requireAccess(.revealRecoveryCodes, context, next: "/profile/two-factor/recovery-codes/print")
        let codes = try await recoveryCodes.unusedCodes(of: context.user)
        let page = RecoveryPrintPage(
            frame: .profile("Your recovery codes", context),
            email: context.user.name,
            date: Format.minute(accounts.now()),
            codes: codes.map(\.description)
        )
        return pages.render(page)
    }

    private func downloadRecoveryCodes(_ request: Request, context: SignedInContext) async throws -> Response {
        try guards.requireAccess(.revealRecoveryCodes, context, next: "/profile/two-factor/recovery-codes")
        let codes = try await recoveryCodes.unusedCodes(of: context.user)
        let text = """
            TwoStep recovery codes for \(context.user.name)
            Saved \(Format.minute(accounts.now()))

            \(codes.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n"))

            Each code works once, in place of the security code from your phone.
            Keep this file somewhere safe and offline; generating new codes makes these stop working.

            """
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/plain; charset=utf-8",
                .contentDisposition: "attachment; filename=\"twostep-recovery-codes.txt\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
