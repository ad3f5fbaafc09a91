import Foundation
import SQLKit
import Testing
import TwoStepCore
import TwoStepStore

@testable import TwoStepServer

@Suite("twostep keys rotate")
struct KeyRotationTests {
    /// Every sealed value moves to the new key and still opens; the old key stays until dropped.
    @Test func rotationResealsEverySecret() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let browser = Browser(client)
            try await browser.signUp("alice@example.com")
            let totp = try await browser.enableApp(at: server.clock)
            let codes = RecoveryCodeTests.codes(in: try await browser.post("/profile/two-factor/recovery-codes"))
            let oldRing = server.parts.keyRing

            let actions = OperatorActions(parts: server.parts, configuration: server.configuration)
            let report = try await actions.rotateKeys(dropRetired: false)
            #expect(report.contains("re-sealed 11 secrets"), "\(report)")
            let ring = try MasterKeyFile.load(at: server.configuration.masterKeyPath)
            #expect(ring.active.id != oldRing.active.id)
            #expect(ring.keys.map(\.id) == [ring.active.id, oldRing.active.id])

            let sealed = try await server.store.database.sql.raw(
                "SELECT sealed_secret AS value FROM factors UNION ALL SELECT sealed_code FROM recovery_codes"
            ).all(decodingColumn: "value", as: String.self)
            #expect(sealed.count == 11 && sealed.allSatisfy { $0.hasPrefix("v1.\(ring.active.id).") })
            // The new key alone opens everything, to the same secrets.
            let newOnly = KeyRing(active: ring.active)
            let factor = try #require(try await server.store.factors(userID: 1).first)
            let secret = try newOnly.open(factor.sealedSecret!, context: "totp:user:1")
            #expect(try TOTP(secret: secret).code(at: server.clock.now) == totp.code(at: server.clock.now))
            let opened = try await server.store.recoveryCodes(userID: 1).map {
                String(decoding: try newOnly.open($0.sealedCode, context: "recovery:user:1"), as: UTF8.self)
            }
            #expect(opened == codes.map { $0.replacingOccurrences(of: "-", with: "") })

            #expect(try await actions.rotateKeys(dropRetired: true).contains("old keys removed"))
            #expect(try MasterKeyFile.load(at: server.configuration.masterKeyPath).keys.count == 1)
        }
    }
}
