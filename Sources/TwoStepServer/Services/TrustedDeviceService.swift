import Foundation
import TwoStepCore
import TwoStepStore

/// "Trust this device" (SPEC F6): a browser holding a device token skips the second factor for
/// `trustDays` days. The token is random and stored hashed; it only works for the account that made it.
struct TrustedDeviceService: Sendable {
    typealias Storage = TrustedDeviceRepository & SecurityEventRepository
    let store: any Storage
    let trustDays: Int
    let now: Now

    var lifetime: TimeInterval { TimeInterval(trustDays) * 24 * 60 * 60 }

    /// Trusts the browser and returns the token for its cookie.
    func trust(user: User, userAgent: String) async throws -> String {
        let token = RandomToken.generate()
        let time = now()
        let device = try await store.createTrustedDevice(
            userID: user.id,
            tokenHash: RandomToken.hash(token),
            userAgent: String(userAgent.prefix(256)),
            at: time.unixTime,
            expiresAt: time.addingTimeInterval(lifetime).unixTime
        )
        try await store.recordEvent(userID: user.id, kind: .deviceTrusted, detail: BrowserName.describe(device.userAgent), at: time.unixTime)
        return token
    }

    /// Whether the token marks a trusted, unexpired device of this user.
    func isTrusted(token: String?, user: User) async throws -> Bool {
        guard let token, let device = try await store.trustedDevice(tokenHash: RandomToken.hash(token)), device.userID == user.id else {
            return false
        }
        let time = now().unixTime
        guard time < device.expiresAt else {
            _ = try await store.deleteTrustedDevice(id: device.id, userID: user.id)
            return false
        }
        try await store.touchTrustedDevice(id: device.id, at: time)
        return true
    }

    func devices(of user: User) async throws -> [TrustedDevice] {
        let time = now().unixTime
        return try await store.trustedDevices(userID: user.id).filter { $0.expiresAt > time }
    }

    func revoke(deviceID: Int64, user: User) async throws -> Bool {
        let removed = try await store.deleteTrustedDevice(id: deviceID, userID: user.id)
        if removed { try await store.recordEvent(userID: user.id, kind: .deviceRevoked, detail: "one device", at: now().unixTime) }
        return removed
    }

    func revokeAll(user: User, reason: String) async throws {
        try await store.deleteTrustedDevices(userID: user.id)
        try await store.recordEvent(userID: user.id, kind: .deviceRevoked, detail: reason, at: now().unixTime)
    }
}

/// A short, human name for a browser from its User-Agent, for the trusted-device list.
enum BrowserName {
    static func describe(_ userAgent: String) -> String {
        let browsers = [
            ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"),
        ]
        let systems = [
            ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"),
        ]
        let browser = browsers.first { userAgent.contains($0.0) }?.1
        let system = systems.first { userAgent.contains($0.0) }?.1
        switch (browser, system) {
        case let (browser?, system?): return "\(browser) on \(system)"
        case let (browser?, nil): return browser
        case let (nil, system?): return "A browser on \(system)"
        case (nil, nil): return "Unknown browser"
        }
    }
}
