import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// **Add security key**, **Add a passkey**, rename and remove (issue 17, SPEC F11). Each route parses,
/// calls one `WebAuthnService` method and renders its answer; the ceremony itself runs in the browser
/// (`WebAuthnScript`), which posts `credential.toJSON()` in the form's `credential` field.
struct SecurityKeyController: Sendable {
    let services: Services
    let pages: Pages
    let cookies: CookieNames

    private var keys: WebAuthnService { services.webAuthn }
    private var guards: ProfileGuards { ProfileGuards(services: services) }

    func addRoutes(to profile: RouterGroup<SignedInContext>) {
        profile.get("two-factor/security-keys/new", use: newKey)
        profile.post("two-factor/security-keys", use: addKey)
        profile.post("two-factor/security-keys/{id}/rename", use: rename)
        profile.get("two-factor/security-keys/{id}/remove", use: confirmRemoval)
        profile.post("two-factor/security-keys/{id}/remove", use: remove)
    }

    private static func newKeyPath(passkey: Bool) -> String {
        "/profile/two-factor/security-keys/new" + (passkey ? "?passkey=on" : "")
    }

    /// The form with the creation options; "Confirm it's you" first when the session has not
    /// re-authenticated lately (a stolen session must not add the thief's key: SPEC §2).
    private func newKey(_ request: Request, context: SignedInContext) async throws -> Response {
        let passkey = request.uri.queryParameters["passkey"] == "on"
        return try await addPage(context, passkey: passkey)
    }

    private func addPage(
        _ context: SignedInContext,
        passkey: Bool,
        nameValue: String = "",
        error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        switch try await keys.registrationOptions(user: context.user, session: context.session, passkey: passkey) {
        case .options(let options):
            let title = passkey ? "Add a passkey" : "Add security key"
            let page = SecurityKeyAddPage(
                frame: PageFrame.profile(title, context).withWebAuthn(),
                passkey: passkey,
                options: options,
                nameValue: nameValue,
                error: error
            )
            return pages.render(page, status: status)
        case .reauthenticationRequired:
            throw ProfileGuards.confirmFirst(next: Self.newKeyPath(passkey: passkey))
        // `--allowed-methods` leaves keys out (issue 18): the page does not offer them either.
        case .methodNotAllowed:
            throw WebRedirect(to: "/profile/two-factor")
        }
    }

    private struct AddForm: Decodable {
        let name: String?
        let credential: String?
        /// Which page to show again after a failure; the challenge decides what is stored.
        let passkey: String?
    }

    private func addKey(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await request.decodeForm(as: AddForm.self, context: context)
        let passkey = form.passkey == "on"
        let result = try await keys.finishRegistration(
            user: context.user,
            session: context.session,
            name: form.name ?? "",
            responseJSON: form.credential ?? ""
        )
        let error: String
        let status: HTTPResponse.Status
        switch result {
        case .registered(_, let turnedOn, _):
            // The first method turns two-factor authentication on: recovery codes are offered next, as
            // after the app or SMS; and back to the application whose sign-in asked for it (issue 14).
            let next =
                turnedOn
                ? SignInContinuation(cookies: cookies, policy: services.returnAddresses).next(request, fallback: "/profile/two-factor?done=enabled")
                : "/profile/two-factor?done=" + (passkey ? "passkey-added" : "key-added")
            return .redirect(to: next, type: .normal)
        case .invalidName(let why):
            (error, status) = ("The name \(why).", .unprocessableContent)
        case .malformed:
            (error, status) = ("Your browser’s answer could not be read. Try again; if it keeps failing, try another browser.", .badRequest)
        case .challengeInvalid:
            (error, status) = ("This page was open too long, or was used already. Try again now.", .unprocessableContent)
        case .refused(let refusal):
            (error, status) = ("The security key’s answer was refused (\(refusal)). Try again, or try another key.", .unprocessableContent)
        case .alreadyRegistered:
            (error, status) = ("This security key is already added.", .conflict)
        case .methodNotAllowed:
            throw WebRedirect(to: "/profile/two-factor")
        }
        return try await addPage(context, passkey: passkey, nameValue: form.name ?? "", error: error, status: status)
    }

    private struct RenameForm: Decodable {
        let name: String?
    }

    private func rename(_ request: Request, context: SignedInContext) async throws -> Response {
        let form = try await request.decodeForm(as: RenameForm.self, context: context)
        guard let id = context.parameters.get("id", as: Int64.self) else { throw WebRedirect(to: "/profile/two-factor") }
        switch try await keys.rename(credentialID: id, user: context.user, name: form.name ?? "") {
        case .renamed: return .redirect(to: "/profile/two-factor?done=key-renamed", type: .normal)
        case .invalidName: return .redirect(to: "/profile/two-factor?problem=key-name", type: .normal)
        case .notFound: return .redirect(to: "/profile/two-factor", type: .normal)
        }
    }

    /// "Remove … ?" with the key's name, once the session has re-authenticated (like **Disable**, never
    /// a bare click on the list).
    private func confirmRemoval(_ request: Request, context: SignedInContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self) else { throw WebRedirect(to: "/profile/two-factor") }
        try guards.requireAccess(.removeSecurityKey, context, next: "/profile/two-factor/security-keys/\(id)/remove")
        return try await removalPage(context, id: id)
    }

    private func removalPage(_ context: SignedInContext, id: Int64, error: String? = nil) async throws -> Response {
        guard let key = try await keys.credentials(of: context.user).first(where: { $0.id == id }) else {
            throw WebRedirect(to: "/profile/two-factor")
        }
        let page = SecurityKeyRemovePage(
            frame: .profile(key.isPasskey ? "Remove passkey" : "Remove security key", context),
            id: key.id,
            name: key.name,
            passkey: key.isPasskey,
            added: Format.minute(Date(unixTime: key.createdAt)),
            error: error
        )
        return pages.render(page, status: error == nil ? .ok : .conflict)
    }

    private func remove(_ request: Request, context: SignedInContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self) else { throw WebRedirect(to: "/profile/two-factor") }
        switch try await keys.remove(credentialID: id, user: context.user, session: context.session) {
        case .removed: return .redirect(to: "/profile/two-factor?done=key-removed", type: .normal)
        case .reauthenticationRequired: throw ProfileGuards.confirmFirst(next: "/profile/two-factor/security-keys/\(id)/remove")
        case .notFound: return .redirect(to: "/profile/two-factor", type: .normal)
        case .lastMethod:
            let error =
                "This is the only way left to pass the second step. Add another method first, or turn two-factor authentication off with Disable."
            return try await removalPage(context, id: id, error: error)
        }
    }
}
