import Foundation
import TwoStepCore
import TwoStepStore

/// The accounts a relying service's API key may act on, and the names it uses for them (issue 12).
///
/// Self sign-up shares the address namespace with the services: anyone may sign up as
/// `ceo@corp.example` and enrol their own app. So a key has a *reach*: every account (keys made
/// before scopes), or only the accounts it provisioned or an operator linked to it. An account
/// outside the reach gets exactly the answer of an account that does not exist, so a key learns
/// nothing about others' accounts. A service may also name its accounts by its own ids (`jdoe`),
/// stored apart from addresses as (key, id): no sign-up and no other service can take them.
struct ServiceAccountService: Sendable {
    let store: any UserRepository & APIKeyRepository
    let accounts: AccountService

    /// A service's own id for an account: 1 to 128 characters, none of them spaces, control or
    /// invisible formatting characters (zero-width, bidi), and no `/` (ids appear in paths).
    /// Compared exactly, so a service sends its ids the same way every time.
    static func externalID(_ raw: String) -> String? {
        guard (1...128).contains(raw.unicodeScalars.count), raw.unicodeScalars.allSatisfy(isAllowedInID) else { return nil }
        return raw
    }

    private static func isAllowedInID(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar != "/" else { return false }
        // ASCII's only spaces and controls are these: no Unicode property look-ups for the
        // commonest ids (they were 2 % of a validate check, issue 19).
        if scalar.isASCII { return scalar.value > 0x20 && scalar.value != 0x7F }
        let category = scalar.properties.generalCategory
        return !scalar.properties.isWhitespace && category != .control && category != .format && category != .unassigned
            && category != .privateUse && category != .surrogate
    }

    /// The account `name` means to `key`: the key's own id for an account first, then an e-mail
    /// address within the key's reach.
    /// - Returns: `nil` — the same answer — for a name nobody has and for an account out of reach.
    func account(named name: String, for key: APIKey) async throws -> User? {
        if let id = Self.externalID(name), let user = try await store.user(apiKeyID: key.id, externalID: id) { return user }
        guard let email = AccountService.normalizedEmail(name), let user = try await store.user(email: email) else { return nil }
        return try await isInReach(user, of: key) ? user : nil
    }

    /// The same, with the account's confirmed factors read in the same query (the validate path).
    func accountWithFactors(named name: String, for key: APIKey) async throws -> (User, [Factor])? {
        let (ownID, address) = try await store.usersWithConfirmedFactors(
            apiKeyID: key.id,
            externalID: Self.externalID(name),
            email: AccountService.normalizedEmail(name)
        )
        if let ownID { return ownID }
        guard let address, try await isInReach(address.0, of: key) else { return nil }
        return address
    }

    /// Whether `key` may act on `user`.
    func isInReach(_ user: User, of key: APIKey) async throws -> Bool {
        switch key.reach {
        case .all: return true
        case .own:
            if user.apiKeyID == key.id { return true }
            return try await store.isLinked(apiKeyID: key.id, userID: user.id)
        }
    }

    enum ProvisionError: Error, Equatable {
        /// Neither or both of an address and an id.
        case nameMissing
        case invalidEmail
        case invalidID
        case passwordLength
        /// The address belongs to an account already — possibly one outside the key's reach,
        /// which the key is never handed.
        case emailTaken
        /// The key has an account with that id already.
        case idTaken
    }

    /// Makes an account for `key`, named by an address or by the key's own id for it.
    func provision(email: String?, id: String?, password: String?, for key: APIKey) async throws -> Result<User, ProvisionError> {
        let name: AccountService.AccountName
        switch (email, id) {
        case (let email?, nil): name = .email(email)
        case (nil, let raw?):
            guard let id = Self.externalID(raw) else { return .failure(.invalidID) }
            name = .external(id, apiKeyID: key.id)
        default: return .failure(.nameMissing)
        }
        switch try await accounts.create(name, password: password, origin: .apiKey, apiKey: key) {
        case .success(let user): return .success(user)
        case .failure(.invalidEmail): return .failure(.invalidEmail)
        case .failure(.passwordLength): return .failure(.passwordLength)
        case .failure(.emailTaken): return .failure(id == nil ? .emailTaken : .idTaken)
        case .failure(.closed): return .failure(.nameMissing)  // not a sign-up: never closed
        }
    }
}
