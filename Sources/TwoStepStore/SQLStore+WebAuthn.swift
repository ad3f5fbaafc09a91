import SQLKit

extension SQLStore {
    private static let credentialColumns =
        "id, user_id, credential_id, public_key, algorithm, sign_count, name, is_passkey, transports, aaguid, created_at, last_used_at"
    private static let challengeColumns = "challenge_hash, purpose, binding, user_id, created_at, expires_at"

    public func createWebAuthnCredential(_ credential: NewWebAuthnCredential, at time: UnixTime) async throws -> WebAuthnCredential {
        // The UNIQUE credential id decides between two registrations of one credential, on any instance.
        let row = try await database.writer.raw(
            """
            INSERT INTO webauthn_credentials
                (user_id, credential_id, public_key, algorithm, sign_count, name, is_passkey, transports, aaguid, created_at)
            VALUES (\(bind: credential.userID), \(bind: credential.credentialID), \(bind: credential.publicKey), \(bind: credential.algorithm),
                \(bind: credential.signCount), \(bind: credential.name), \(bind: credential.isPasskey ? 1 : 0), \(bind: credential.transports),
                \(bind: credential.aaguid), \(bind: time))
            ON CONFLICT DO NOTHING RETURNING \(unsafeRaw: Self.credentialColumns)
            """
        ).first(decoding: WebAuthnCredential.self)
        guard let row else { throw StoreError.duplicate }
        return row
    }

    public func webAuthnCredentials(userID: Int64) async throws -> [WebAuthnCredential] {
        try await database.sql.raw(
            "SELECT \(unsafeRaw: Self.credentialColumns) FROM webauthn_credentials WHERE user_id = \(bind: userID) ORDER BY id"
        ).all(decoding: WebAuthnCredential.self)
    }

    public func webAuthnCredential(credentialID: String) async throws -> WebAuthnCredential? {
        try await database.sql.raw(
            "SELECT \(unsafeRaw: Self.credentialColumns) FROM webauthn_credentials WHERE credential_id = \(bind: credentialID)"
        ).first(decoding: WebAuthnCredential.self)
    }

    public func renameWebAuthnCredential(id: Int64, userID: Int64, name: String) async throws -> Bool {
        try await database.writer.raw(
            "UPDATE webauthn_credentials SET name = \(bind: name) WHERE id = \(bind: id) AND user_id = \(bind: userID) RETURNING id"
        ).first() != nil
    }

    public func deleteWebAuthnCredential(id: Int64, userID: Int64, keepingAnotherMethod: Bool) async throws -> Bool {
        guard keepingAnotherMethod else {
            return try await database.writer.raw(
                "DELETE FROM webauthn_credentials WHERE id = \(bind: id) AND user_id = \(bind: userID) RETURNING id"
            ).first() != nil
        }
        // "Another method remains" and the delete are one statement, run `exclusively`: on PostgreSQL
        // (read committed) two removals of an account's last two keys would otherwise each see the
        // other key and both delete, leaving 2FA off without the cleanup turning it off does.
        return try await database.exclusively { sql in
            try await sql.raw(
                """
                DELETE FROM webauthn_credentials WHERE id = \(bind: id) AND user_id = \(bind: userID)
                AND (EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = \(bind: userID) AND id <> \(bind: id))
                    OR EXISTS (SELECT 1 FROM factors WHERE user_id = \(bind: userID) AND confirmed_at IS NOT NULL
                        AND kind IN (\(bind: FactorKind.totp.rawValue), \(bind: FactorKind.sms.rawValue))))
                RETURNING id
                """
            ).first() != nil
        }
    }

    public func deleteWebAuthnCredentials(userID: Int64) async throws {
        try await database.writer.raw("DELETE FROM webauthn_credentials WHERE user_id = \(bind: userID)").run()
    }

    public func recordWebAuthnUse(id: Int64, expectedSignCount: Int64, signCount: Int64, at time: UnixTime) async throws -> Bool {
        try await database.writer.raw(
            """
            UPDATE webauthn_credentials SET sign_count = \(bind: signCount), last_used_at = \(bind: time)
            WHERE id = \(bind: id) AND sign_count = \(bind: expectedSignCount) RETURNING id
            """
        ).first() != nil
    }

    public func webAuthnUserHandle(userID: Int64, proposed: String) async throws -> String {
        try await database.writer.raw(
            "INSERT INTO webauthn_user_handles (user_id, handle) VALUES (\(bind: userID), \(bind: proposed)) ON CONFLICT (user_id) DO NOTHING"
        ).run()
        // From the writer: the row was just written, and a reader may not see it yet.
        guard
            let handle = try await database.writer.raw("SELECT handle FROM webauthn_user_handles WHERE user_id = \(bind: userID)")
                .first(decodingColumn: "handle", as: String.self)
        else { throw StoreError.duplicate }
        return handle
    }

    public func userID(webAuthnUserHandle handle: String) async throws -> Int64? {
        try await database.sql.raw("SELECT user_id FROM webauthn_user_handles WHERE handle = \(bind: handle)")
            .first(decodingColumn: "user_id", as: Int64.self)
    }

    public func createWebAuthnChallenge(_ challenge: WebAuthnChallenge) async throws {
        try await database.writer.raw(
            """
            INSERT INTO webauthn_challenges (challenge_hash, purpose, binding, user_id, created_at, expires_at)
            VALUES (\(bind: challenge.challengeHash), \(bind: challenge.purpose.rawValue), \(bind: challenge.binding), \(bind: challenge.userID),
                \(bind: challenge.createdAt), \(bind: challenge.expiresAt))
            """
        ).run()
    }

    public func consumeWebAuthnChallenge(
        hash: String,
        purpose: WebAuthnChallengePurpose,
        binding: String,
        at time: UnixTime
    ) async throws
        -> WebAuthnChallenge?
    {
        // One conditional DELETE: of concurrent finishes of one ceremony exactly one gets the row
        // (W3C WebAuthn §13.4.3: a challenge is used once), on any number of instances. A finish from
        // another browser (wrong binding) or of another ceremony leaves it in place for its owner.
        try await database.writer.raw(
            """
            DELETE FROM webauthn_challenges
            WHERE challenge_hash = \(bind: hash) AND purpose = \(bind: purpose.rawValue) AND binding = \(bind: binding) AND expires_at > \(bind: time)
            RETURNING \(unsafeRaw: Self.challengeColumns)
            """
        ).first(decoding: WebAuthnChallenge.self)
    }

    public func deleteExpiredWebAuthnChallenges(before time: UnixTime) async throws {
        try await database.writer.raw("DELETE FROM webauthn_challenges WHERE expires_at < \(bind: time)").run()
    }
}
