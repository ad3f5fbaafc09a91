/// What the help-desk console (issue 18) reads and changes beyond the other repositories: roles,
/// the account search, and an account's live sessions.
public protocol StaffRepository: Sendable {
    /// Gives the account a role.
    func setRole(_ role: AccountRole, userID: Int64) async throws
    /// Accounts whose address contains `text` (already lower case), ordered by address, at most `limit`.
    /// `%` and `_` in `text` match themselves, not any characters.
    func users(addressContaining text: String, limit: Int) async throws -> [User]
    /// The account's sessions and API tokens, newest first (ended ones may still be among them
    /// until the sweeper removes them: `SessionService` decides which are live).
    func sessions(userID: Int64) async throws -> [Session]
}
