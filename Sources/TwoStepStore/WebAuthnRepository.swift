/// Security keys and passkeys (issue 17): the registered credentials, each account's WebAuthn user
/// handle, and the challenges of ceremonies under way.
public protocol WebAuthnRepository: Sendable {
    /// Stores a credential accepted at registration.
    /// - Throws: ``StoreError/duplicate`` when the credential id is registered already, to any account
    ///   (W3C WebAuthn §7.1 step 22: a credential id belongs to one account only).
    func createWebAuthnCredential(_ credential: NewWebAuthnCredential, at time: UnixTime) async throws -> WebAuthnCredential
    /// The account's credentials, oldest first.
    func webAuthnCredentials(userID: Int64) async throws -> [WebAuthnCredential]
    /// The credential with this id (base64url), whoever's it is.
    func webAuthnCredential(credentialID: String) async throws -> WebAuthnCredential?
    /// - Returns: Whether a credential of that account was renamed.
    func renameWebAuthnCredential(id: Int64, userID: Int64, name: String) async throws -> Bool
    /// Removes one of the account's credentials. With `keepingAnotherMethod`, only if the account keeps
    /// another way to pass the second step (another credential, or a confirmed app or SMS factor),
    /// decided in the same atomic step as the delete, so two concurrent removals cannot leave none.
    /// - Returns: Whether it was removed.
    func deleteWebAuthnCredential(id: Int64, userID: Int64, keepingAnotherMethod: Bool) async throws -> Bool
    /// Removes every credential of the account (turning 2FA off, an operator reset).
    func deleteWebAuthnCredentials(userID: Int64) async throws
    /// Stores the counter of an accepted assertion and the time of use, only if the stored counter is
    /// still `expected` (one conditional statement: a concurrent use cannot roll the counter back).
    /// - Returns: Whether this call updated it.
    func recordWebAuthnUse(id: Int64, expectedSignCount: Int64, signCount: Int64, at time: UnixTime) async throws -> Bool
    /// The account's user handle, storing `proposed` if it has none yet (of concurrent callers one
    /// stores its proposal and all get that one).
    func webAuthnUserHandle(userID: Int64, proposed: String) async throws -> String
    /// The account with this user handle.
    func userID(webAuthnUserHandle handle: String) async throws -> Int64?
    /// Records a challenge issued for a ceremony.
    func createWebAuthnChallenge(_ challenge: WebAuthnChallenge) async throws
    /// Uses a challenge up: deletes it if it has this purpose and binding and has not expired, in one
    /// conditional statement, so of concurrent finishes (on any number of instances) exactly one gets it.
    /// - Returns: The challenge as it was, or `nil`.
    func consumeWebAuthnChallenge(
        hash: String,
        purpose: WebAuthnChallengePurpose,
        binding: String,
        at time: UnixTime
    ) async throws
        -> WebAuthnChallenge?
    /// Removes challenges that ended before `time`.
    func deleteExpiredWebAuthnChallenges(before time: UnixTime) async throws
}
