import Foundation
import TwoStepCore
import TwoStepStore

/// What `twostep user …` does, through the same services as the web pages.
public struct OperatorActions: Sendable {
    private let accounts: AccountService
    private let twoFactor: TwoFactorService
    private let store: SQLStore

    public init(parts: ServerParts, configuration: ServerConfiguration = ServerConfiguration()) {
        let now: Now = { Date() }
        store = parts.store
        accounts = AccountService(store: parts.store, hasher: .passwords, now: now)
        twoFactor = TwoFactorService(
            store: parts.store, keyRing: parts.keyRing, issuer: configuration.issuer, window: configuration.verificationWindow,
            lockout: configuration.lockout,
            recoveryCodes: RecoveryCodeService(store: parts.store, keyRing: parts.keyRing, hasher: .recoveryCodes, now: now), now: now
        )
    }

    public func addUser(email: String, password: String) async throws -> String {
        switch try await accounts.signUp(email: email, password: password) {
        case .success(let user): return "added \(user.email) (id \(user.id))"
        case .failure(.invalidEmail): throw OperatorError("'\(email)' is not an e-mail address")
        case .failure(.passwordLength): throw OperatorError("the password must be 8 to 128 characters")
        case .failure(.emailTaken): throw OperatorError("\(email) already has an account")
        }
    }

    public func listUsers() async throws -> [String] {
        var lines = ["id\temail\t2fa\tfailures"]
        for user in try await store.allUsers() {
            let enabled = try await twoFactor.isEnabled(for: user)
            let locked = user.secondFactorFailures >= twoFactor.lockout.lockThreshold
            lines.append("\(user.id)\t\(user.email)\t\(enabled ? "on" : "off")\t\(user.secondFactorFailures)\(locked ? " (locked)" : "")")
        }
        return lines
    }

    public func resetTwoFactor(email: String) async throws -> String {
        guard let normalized = AccountService.normalizedEmail(email), let user = try await store.user(email: normalized) else {
            throw OperatorError("no account has the e-mail address \(email)")
        }
        try await twoFactor.operatorReset(user: user)
        return "two-factor authentication is off for \(user.email); failures cleared and trusted devices revoked"
    }
}

public struct OperatorError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
