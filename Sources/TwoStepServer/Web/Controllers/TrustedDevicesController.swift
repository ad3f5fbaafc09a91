import Foundation
import Hummingbird
import TwoStepCore
import TwoStepStore

/// Revoking trusted devices, one or all (SPEC F6).
struct TrustedDevicesController: Sendable {
    let services: Services
    let pages: Pages
    let cookies: CookieNames

    private var devices: TrustedDeviceService { services.devices }

    func addRoutes(to profile: RouterGroup<SignedInContext>) {
        profile.post("two-factor/devices/:id/revoke", use: revokeDevice)
        profile.post("two-factor/devices/revoke-all", use: revokeAllDevices)
    }

    private func revokeDevice(_ request: Request, context: SignedInContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self), try await devices.revoke(deviceID: id, user: context.user) else {
            throw HTTPError(.notFound, message: "No such trusted device.")
        }
        return .redirect(to: "/profile/two-factor?done=revoked", type: .normal)
    }

    private func revokeAllDevices(_ request: Request, context: SignedInContext) async throws -> Response {
        try await devices.revokeAll(user: context.user, reason: "all devices")
        var response = Response.redirect(to: "/profile/two-factor?done=revoked-all", type: .normal)
        response.setCookie(cookies.expired(cookies.trustedDevice))
        return response
    }
}
