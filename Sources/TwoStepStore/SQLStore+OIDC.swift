import SQLKit

extension SQLStore: OIDCRepository {
    private static let clientColumns =
        "client_id, name, secret_hash, redirect_uris, post_logout_redirect_uris, two_factors_required, created_at"
    private static let codeColumns =
        "code_hash, client_id, user_id, redirect_uri, code_challenge, nonce, scope, amr, auth_time, created_at, expires_at"

    public func createOIDCClient(_ client: OIDCClient) async throws {
        let row = try await database.writer.raw(
            """
            INSERT INTO oidc_clients (client_id, name, secret_hash, redirect_uris, post_logout_redirect_uris, two_factors_required, created_at)
            VALUES (\(bind: client.clientID), \(bind: client.name), \(bind: client.secretHash), \(bind: client.redirectURIs.joined(separator: "\n")),
            \(bind: client.postLogoutRedirectURIs.joined(separator: "\n")), \(bind: client.twoFactorsRequired ? 1 : 0), \(bind: client.createdAt))
            ON CONFLICT DO NOTHING RETURNING client_id
            """
        ).first()
        guard row != nil else { throw StoreError.duplicate }
    }

    public func oidcClient(clientID: String) async throws -> OIDCClient? {
        try await database.sql.raw("SELECT \(unsafeRaw: Self.clientColumns) FROM oidc_clients WHERE client_id = \(bind: clientID)")
            .first().map(Self.client)
    }

    public func oidcClients() async throws -> [OIDCClient] {
        try await database.sql.raw("SELECT \(unsafeRaw: Self.clientColumns) FROM oidc_clients ORDER BY id").all().map(Self.client)
    }

    public func deleteOIDCClient(name: String) async throws -> Bool {
        try await database.writer.raw("DELETE FROM oidc_clients WHERE name = \(bind: name) RETURNING client_id").first() != nil
    }

    private static func client(_ row: any SQLRow) throws -> OIDCClient {
        func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }
        return OIDCClient(
            clientID: try row.decode(column: "client_id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            secretHash: try row.decode(column: "secret_hash", as: String?.self),
            redirectURIs: lines(try row.decode(column: "redirect_uris", as: String.self)),
            postLogoutRedirectURIs: lines(try row.decode(column: "post_logout_redirect_uris", as: String.self)),
            // INTEGER 0/1, the boolean both databases share.
            twoFactorsRequired: try row.decode(column: "two_factors_required", as: Int.self) != 0,
            createdAt: try row.decode(column: "created_at", as: UnixTime.self)
        )
    }

    public func createAuthorizationCode(_ code: AuthorizationCode) async throws {
        try await database.writer.raw(
            """
            INSERT INTO oidc_codes (code_hash, client_id, user_id, redirect_uri, code_challenge, nonce, scope, amr, auth_time, created_at, expires_at)
            VALUES (\(bind: code.codeHash), \(bind: code.clientID), \(bind: code.userID), \(bind: code.redirectURI), \(bind: code.codeChallenge),
            \(bind: code.nonce), \(bind: code.scope), \(bind: code.amr), \(bind: code.authTime), \(bind: code.createdAt), \(bind: code.expiresAt))
            """
        ).run()
    }

    public func redeemAuthorizationCode(hash: String, at time: UnixTime) async throws -> CodeRedemption {
        let writer = database.writer
        // One conditional UPDATE: of concurrent redemptions exactly one sees `used_at IS NULL`.
        if let row = try await writer.raw(
            """
            UPDATE oidc_codes SET used_at = \(bind: time) WHERE code_hash = \(bind: hash) AND used_at IS NULL
            RETURNING \(unsafeRaw: Self.codeColumns)
            """
        ).first() {
            return .redeemed(try Self.code(row))
        }
        // Spent already: mark it reused first (token lookups check this, so a token the first
        // redemption is still writing is dead on arrival), then delete what it issued.
        guard
            let row = try await writer.raw(
                "UPDATE oidc_codes SET reused_at = \(bind: time) WHERE code_hash = \(bind: hash) RETURNING \(unsafeRaw: Self.codeColumns)"
            ).first()
        else { return .unknown }
        try await writer.raw("DELETE FROM oidc_access_tokens WHERE code_hash = \(bind: hash)").run()
        return .reused(try Self.code(row))
    }

    private static func code(_ row: any SQLRow) throws -> AuthorizationCode {
        AuthorizationCode(
            codeHash: try row.decode(column: "code_hash", as: String.self),
            clientID: try row.decode(column: "client_id", as: String.self),
            userID: try row.decode(column: "user_id", as: Int64.self),
            redirectURI: try row.decode(column: "redirect_uri", as: String.self),
            codeChallenge: try row.decode(column: "code_challenge", as: String?.self),
            nonce: try row.decode(column: "nonce", as: String?.self),
            scope: try row.decode(column: "scope", as: String.self),
            amr: try row.decode(column: "amr", as: String.self),
            authTime: try row.decode(column: "auth_time", as: UnixTime.self),
            createdAt: try row.decode(column: "created_at", as: UnixTime.self),
            expiresAt: try row.decode(column: "expires_at", as: UnixTime.self)
        )
    }

    public func createAccessToken(hash: String, codeHash: String, expiresAt: UnixTime) async throws {
        try await database.writer.raw(
            "INSERT INTO oidc_access_tokens (token_hash, code_hash, expires_at) VALUES (\(bind: hash), \(bind: codeHash), \(bind: expiresAt))"
        ).run()
    }

    public func accessToken(hash: String, at time: UnixTime) async throws -> AccessTokenGrant? {
        guard
            let row = try await database.sql.raw(
                """
                SELECT c.user_id, c.client_id, c.scope FROM oidc_access_tokens t JOIN oidc_codes c ON c.code_hash = t.code_hash
                WHERE t.token_hash = \(bind: hash) AND t.expires_at > \(bind: time) AND c.reused_at IS NULL
                """
            ).first()
        else { return nil }
        return AccessTokenGrant(
            userID: try row.decode(column: "user_id", as: Int64.self),
            clientID: try row.decode(column: "client_id", as: String.self),
            scope: try row.decode(column: "scope", as: String.self)
        )
    }

    public func deleteExpiredOIDCRecords(before time: UnixTime) async throws {
        try await database.writer.raw("DELETE FROM oidc_access_tokens WHERE expires_at < \(bind: time)").run()
        try await database.writer.raw(
            "DELETE FROM oidc_codes WHERE expires_at < \(bind: time) AND NOT EXISTS (SELECT 1 FROM oidc_access_tokens t WHERE t.code_hash = oidc_codes.code_hash)"
        ).run()
    }

    public func signingKeys() async throws -> [StoredSigningKey] {
        try await database.sql.raw("SELECT kid, sealed_key, created_at, retired_at FROM oidc_signing_keys ORDER BY created_at DESC, kid DESC")
            .all().map { row in
                StoredSigningKey(
                    kid: try row.decode(column: "kid", as: String.self),
                    sealedKey: try row.decode(column: "sealed_key", as: String.self),
                    createdAt: try row.decode(column: "created_at", as: UnixTime.self),
                    retiredAt: try row.decode(column: "retired_at", as: UnixTime?.self)
                )
            }
    }

    public func createSigningKey(_ key: StoredSigningKey) async throws {
        try await database.writer.raw(
            """
            INSERT INTO oidc_signing_keys (kid, sealed_key, created_at, retired_at)
            VALUES (\(bind: key.kid), \(bind: key.sealedKey), \(bind: key.createdAt), \(bind: key.retiredAt)) ON CONFLICT (kid) DO NOTHING
            """
        ).run()
    }

    public func retireSigningKeys(except kid: String, at time: UnixTime) async throws {
        try await database.writer.raw(
            "UPDATE oidc_signing_keys SET retired_at = \(bind: time) WHERE kid <> \(bind: kid) AND retired_at IS NULL"
        ).run()
    }

    public func setSealedSigningKey(_ sealed: String, kid: String) async throws {
        try await database.writer.raw("UPDATE oidc_signing_keys SET sealed_key = \(bind: sealed) WHERE kid = \(bind: kid)").run()
    }

    public func deleteSigningKeys(retiredBefore time: UnixTime) async throws {
        try await database.writer.raw("DELETE FROM oidc_signing_keys WHERE retired_at < \(bind: time)").run()
    }
}
