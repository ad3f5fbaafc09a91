import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// The help-desk console at `/admin` (issue 18): each route parses, asks `HelpDeskService` once and
/// renders its answer. Same layout, headers, session and CSRF token as every other page.
struct HelpDeskController: Sendable {
    let services: Services
    let pages: Pages

    private var helpDesk: HelpDeskService { services.helpDesk }

    func addRoutes(to admin: RouterGroup<SignedInContext>) {
        admin.get(use: search)
        admin.get("accounts/:id", use: showAccount)
        admin.post("accounts/:id/unlock") { request, context in try await perform(.unlock, request, context) }
        admin.post("accounts/:id/signout-everywhere") { request, context in try await perform(.signOutEverywhere, request, context) }
        admin.post("accounts/:id/revoke-devices") { request, context in try await perform(.revokeTrustedDevices, request, context) }
        admin.post("accounts/:id/reset-two-factor") { request, context in try await perform(.resetTwoFactor, request, context) }
        admin.post("accounts/:id/role", use: changeRole)
        admin.get("audit", use: auditTrail)
    }

    private func search(_ request: Request, context: SignedInContext) async throws -> Response {
        switch try await helpDesk.search(request.uri.queryParameters["q"].map(String.init), by: context.user) {
        case .success(let search): return pages.render(HelpDeskSearchPage(search, csrf: context.csrfToken))
        case .failure(let refusal): return try refused(refusal, context, accountID: nil)
        }
    }

    private static let notices = [
        "unlock": "Unlocked: the waits and the lock are cleared. The person still needs their password and a second factor.",
        "signout-everywhere": "Every session and API token of the account has ended.",
        "revoke-devices": "No browser is trusted any more: each sign-in asks for a security code.",
        "reset-two-factor":
            "Two-factor authentication is reset: the person must set up a method at the next sign-in, and gets a security alert if their address is confirmed.",
        "role": "The role is changed.",
    ]

    private func showAccount(_ request: Request, context: SignedInContext) async throws -> Response {
        let id = context.parameters.get("id", as: Int64.self) ?? 0
        switch try await helpDesk.account(id: id, by: context.user, session: context.session) {
        case .success(let view):
            let notice = request.uri.queryParameters["done"].flatMap { Self.notices[String($0)] }
            return pages.render(HelpDeskAccountPage(view, csrf: context.csrfToken, notice: notice, error: nil, now: services.accounts.now()))
        case .failure(let refusal): return try refused(refusal, context, accountID: id)
        }
    }

    private struct ActionForm: Decodable {
        let reason: String?
        let role: String?
    }

    private func perform(_ action: HelpDeskService.Action, _ request: Request, _ context: SignedInContext) async throws -> Response {
        let id = context.parameters.get("id", as: Int64.self) ?? 0
        let form = try await request.decodeForm(as: ActionForm.self, context: context)
        return try await done(
            action,
            try await helpDesk.perform(action, accountID: id, reason: form.reason, by: context.user, session: context.session),
            context,
            id
        )
    }

    private func changeRole(_ request: Request, context: SignedInContext) async throws -> Response {
        let id = context.parameters.get("id", as: Int64.self) ?? 0
        let form = try await request.decodeForm(as: ActionForm.self, context: context)
        guard let role = form.role.flatMap(AccountRole.init(rawValue:)) else {
            return message("No such role", "A role is none, support or admin.", context, status: .unprocessableContent, back: id)
        }
        let action = HelpDeskService.Action.setRole(role)
        return try await done(
            action,
            try await helpDesk.perform(action, accountID: id, reason: form.reason, by: context.user, session: context.session),
            context,
            id
        )
    }

    private func done(
        _ action: HelpDeskService.Action,
        _ result: Result<User, HelpDeskService.Refusal>,
        _ context: SignedInContext,
        _ id: Int64
    ) throws
        -> Response
    {
        switch result {
        case .success:
            let done =
                switch action {
                case .unlock: "unlock"
                case .signOutEverywhere: "signout-everywhere"
                case .revokeTrustedDevices: "revoke-devices"
                case .resetTwoFactor: "reset-two-factor"
                case .setRole: "role"
                }
            // Post/redirect/get: a reload shows the account instead of acting again.
            return .redirect(to: "/admin/accounts/\(id)?done=\(done)", type: .normal)
        case .failure(let refusal): return try refused(refusal, context, accountID: id)
        }
    }

    private func auditTrail(_ request: Request, context: SignedInContext) async throws -> Response {
        let before = request.uri.queryParameters["before"].flatMap { Int64(String($0)) }
        switch try await helpDesk.auditTrail(before: before, by: context.user) {
        case .success(let trail): return pages.render(HelpDeskAuditPage(trail, csrf: context.csrfToken))
        case .failure(let refusal): return try refused(refusal, context, accountID: nil)
        }
    }

    /// How each refusal looks. A non-staff account gets the same 404 as any path that does not
    /// exist: the console is not a page of theirs, and nothing they can do would let them in.
    /// Staff without a second factor are told so and sent to set one up (403).
    private func refused(_ refusal: HelpDeskService.Refusal, _ context: SignedInContext, accountID: Int64?) throws -> Response {
        let text = HelpDeskAccountPage.explain(refusal)
        switch refusal {
        case .notStaff:
            throw HTTPError(.notFound)
        case .twoFactorRequired:
            return pages.render(
                MessagePage(
                    frame: PageFrame(title: "Help desk", csrf: context.csrfToken, signedInAs: context.user.name),
                    heading: "Turn on two-factor authentication first",
                    message:
                        "The help desk can reset other people’s second factors, so it needs a second factor on your own account: a password alone never opens it.",
                    link: MessagePage.Link(href: "/profile/two-factor/enable", label: "Set up two-factor authentication")
                ),
                status: .forbidden
            )
        case .reauthenticationRequired:
            let next = accountID.map { "/admin/accounts/\($0)" } ?? "/admin"
            throw WebRedirect(to: "/profile/confirm?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        case .noSuchAccount:
            return message("No such account", text, context, status: .notFound, back: nil)
        case .ownAccount, .staffAccount, .adminOnly:
            return message("Not allowed", text, context, status: .forbidden, back: accountID)
        case .reasonRequired:
            return message("A reason is required", text, context, status: .unprocessableContent, back: accountID)
        }
    }

    private func message(_ heading: String, _ text: String, _ context: SignedInContext, status: HTTPResponse.Status, back id: Int64?) -> Response {
        pages.render(
            MessagePage(
                frame: PageFrame(title: heading, csrf: context.csrfToken, signedInAs: context.user.name),
                heading: heading,
                message: text,
                link: MessagePage.Link(href: id.map { "/admin/accounts/\($0)" } ?? "/admin", label: "Back to the help desk")
            ),
            status: status
        )
    }
}
