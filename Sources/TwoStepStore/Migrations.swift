import Foundation
import SQLKit

/// The schema, as numbered steps applied once each, in order, inside one transaction.
/// Add a step for every change; never edit one that has shipped.
enum Migrations {
    static func steps(_ dialect: Database.Dialect) -> [(version: Int, statements: [String])] {
        let id = dialect.identityColumn
        return [
            (
                1,
                [
                    """
                    CREATE TABLE users (
                        id \(id),
                        email TEXT NOT NULL UNIQUE,
                        password_hash TEXT NOT NULL,
                        created_at BIGINT NOT NULL,
                        second_factor_failures INTEGER NOT NULL DEFAULT 0,
                        last_second_factor_failure_at BIGINT
                    )
                    """,
                    """
                    CREATE TABLE factors (
                        id \(id),
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        kind TEXT NOT NULL,
                        sealed_secret TEXT,
                        algorithm TEXT NOT NULL,
                        digits INTEGER NOT NULL,
                        period INTEGER NOT NULL,
                        last_used_step BIGINT,
                        created_at BIGINT NOT NULL,
                        confirmed_at BIGINT
                    )
                    """,
                    "CREATE INDEX factors_user ON factors (user_id)",
                    """
                    CREATE TABLE sessions (
                        id_hash TEXT PRIMARY KEY,
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        stage TEXT NOT NULL,
                        created_at BIGINT NOT NULL,
                        last_seen_at BIGINT NOT NULL,
                        user_agent TEXT NOT NULL
                    )
                    """,
                    "CREATE INDEX sessions_user ON sessions (user_id)",
                    """
                    CREATE TABLE trusted_devices (
                        id \(id),
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        token_hash TEXT NOT NULL UNIQUE,
                        user_agent TEXT NOT NULL,
                        created_at BIGINT NOT NULL,
                        last_used_at BIGINT NOT NULL,
                        expires_at BIGINT NOT NULL
                    )
                    """,
                    "CREATE INDEX trusted_devices_user ON trusted_devices (user_id)",
                    """
                    CREATE TABLE security_events (
                        id \(id),
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        kind TEXT NOT NULL,
                        detail TEXT NOT NULL,
                        created_at BIGINT NOT NULL
                    )
                    """,
                    "CREATE INDEX security_events_user ON security_events (user_id, id)",
                ]
            ),
            (
                2,
                [
                    """
                    CREATE TABLE recovery_codes (
                        id \(id),
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        code_hash TEXT NOT NULL,
                        sealed_code TEXT NOT NULL,
                        created_at BIGINT NOT NULL,
                        used_at BIGINT
                    )
                    """,
                    "CREATE INDEX recovery_codes_user ON recovery_codes (user_id)",
                    "ALTER TABLE sessions ADD COLUMN reauthenticated_until BIGINT",
                ]
            ),
            (
                3,
                [
                    "ALTER TABLE factors ADD COLUMN phone TEXT",
                    """
                    CREATE TABLE sms_challenges (
                        id \(id),
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        factor_id BIGINT NOT NULL REFERENCES factors (id) ON DELETE CASCADE,
                        phone TEXT NOT NULL,
                        sealed_code TEXT NOT NULL,
                        created_at BIGINT NOT NULL,
                        expires_at BIGINT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        used_at BIGINT
                    )
                    """,
                    "CREATE INDEX sms_challenges_user ON sms_challenges (user_id, created_at)",
                    "CREATE INDEX sms_challenges_phone ON sms_challenges (phone, created_at)",
                ]
            ),
            (
                4,
                [
                    """
                    CREATE TABLE api_keys (
                        id \(id),
                        name TEXT NOT NULL UNIQUE,
                        key_hash TEXT NOT NULL UNIQUE,
                        created_at BIGINT NOT NULL,
                        revoked_at BIGINT
                    )
                    """
                ]
            ),
            (
                5,
                [
                    // Attempt budgets (ThrottleRepository): the failure counters move out of `users`.
                    "CREATE TABLE throttles (key TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at BIGINT NOT NULL)",
                    """
                    INSERT INTO throttles (key, state, updated_at)
                    SELECT 'code:' || id, second_factor_failures || ';' || last_second_factor_failure_at || ';' || last_second_factor_failure_at,
                        last_second_factor_failure_at
                    FROM users WHERE second_factor_failures > 0 AND last_second_factor_failure_at IS NOT NULL
                    """,
                ]
            ),
            (
                6,
                [
                    // The send log every SMS limit counts over. No foreign keys on purpose: deleting a
                    // factor, a challenge or the account must not delete what was sent (issue 12).
                    """
                    CREATE TABLE sms_sends (
                        id \(id),
                        user_id BIGINT NOT NULL,
                        phone TEXT NOT NULL,
                        purpose TEXT NOT NULL,
                        sent_at BIGINT NOT NULL
                    )
                    """,
                    "CREATE INDEX sms_sends_user ON sms_sends (user_id, sent_at)",
                    "CREATE INDEX sms_sends_phone ON sms_sends (phone, sent_at)",
                    "CREATE INDEX sms_sends_time ON sms_sends (sent_at)",
                    // What was sent before the upgrade still counts.
                    "INSERT INTO sms_sends (user_id, phone, purpose, sent_at) SELECT user_id, phone, 'unknown', created_at FROM sms_challenges",
                ]
            ),
            (
                7,
                [
                    // Who provisioned an account, and a service's own names for its accounts (issue 12):
                    // an account named only by (key, external id) has no address, so the address may be empty.
                ] + dialect.dropNotNull(table: "users", column: "email TEXT NOT NULL UNIQUE", becomes: "email TEXT UNIQUE") + [
                    "ALTER TABLE users ADD COLUMN origin TEXT",
                    "ALTER TABLE users ADD COLUMN api_key_id BIGINT REFERENCES api_keys (id)",
                    "ALTER TABLE users ADD COLUMN external_id TEXT",
                    "CREATE UNIQUE INDEX users_external_id ON users (api_key_id, external_id)",
                    // Keys made before scopes keep the full access they had.
                    "ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'validate,users,enrol,recovery-codes,audit'",
                    "ALTER TABLE api_keys ADD COLUMN reach TEXT NOT NULL DEFAULT 'all'",
                    """
                    CREATE TABLE api_key_links (
                        api_key_id BIGINT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        created_at BIGINT NOT NULL,
                        PRIMARY KEY (api_key_id, user_id)
                    )
                    """,
                    "CREATE INDEX api_key_links_user ON api_key_links (user_id)",
                ]
            ),
            (
                8,
                [
                    // After `twostep user reset-2fa`: the next sign-in goes straight to enrolment (issue 12).
                    "ALTER TABLE users ADD COLUMN enrolment_required INTEGER NOT NULL DEFAULT 0"
                ]
            ),
            (
                9,
                [
                    // SPEC F10: every event shows the client address it came from.
                    "ALTER TABLE security_events ADD COLUMN client_address TEXT NOT NULL DEFAULT ''"
                ]
            ),
            (
                10,
                [
                    // Issue 14: how each sign-in was proven (RFC 8176 `amr`), for ID tokens and forward-auth.
                    "ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT ''",
                    // OpenID Connect clients. A NULL secret is a public client, which must use PKCE (RFC 7636).
                    """
                    CREATE TABLE oidc_clients (
                        id \(id),
                        client_id TEXT NOT NULL UNIQUE,
                        name TEXT NOT NULL UNIQUE,
                        secret_hash TEXT,
                        redirect_uris TEXT NOT NULL,
                        post_logout_redirect_uris TEXT NOT NULL,
                        two_factors_required INTEGER NOT NULL DEFAULT 0,
                        created_at BIGINT NOT NULL
                    )
                    """,
                    // Kept after use until the tokens they issued expire, so a second use is recognised
                    // and revokes those tokens (RFC 6749 §4.1.2).
                    """
                    CREATE TABLE oidc_codes (
                        code_hash TEXT PRIMARY KEY,
                        client_id TEXT NOT NULL REFERENCES oidc_clients (client_id) ON DELETE CASCADE,
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        redirect_uri TEXT NOT NULL,
                        code_challenge TEXT,
                        nonce TEXT,
                        scope TEXT NOT NULL,
                        amr TEXT NOT NULL,
                        auth_time BIGINT NOT NULL,
                        created_at BIGINT NOT NULL,
                        expires_at BIGINT NOT NULL,
                        used_at BIGINT,
                        reused_at BIGINT
                    )
                    """,
                    """
                    CREATE TABLE oidc_access_tokens (
                        token_hash TEXT PRIMARY KEY,
                        code_hash TEXT NOT NULL REFERENCES oidc_codes (code_hash) ON DELETE CASCADE,
                        expires_at BIGINT NOT NULL
                    )
                    """,
                    "CREATE INDEX oidc_access_tokens_code ON oidc_access_tokens (code_hash)",
                    // ID-token signing keys, sealed under the master key like every other secret.
                    "CREATE TABLE oidc_signing_keys (kid TEXT PRIMARY KEY, sealed_key TEXT NOT NULL, created_at BIGINT NOT NULL, retired_at BIGINT)",
                ]
            ),
            (
                11,
                [
                    // The operator audit trail (issue 16) is the security events, with who acted, from
                    // which browser, in which request, and how it ended. Operator actions on no account
                    // (API keys, key rotation, imports) have no user.
                ]
                    + dialect.dropNotNull(
                        table: "security_events",
                        column: "user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE",
                        becomes: "user_id BIGINT REFERENCES users (id) ON DELETE CASCADE"
                    ) + [
                        "ALTER TABLE security_events ADD COLUMN actor_kind TEXT NOT NULL DEFAULT ''",
                        "ALTER TABLE security_events ADD COLUMN actor_name TEXT NOT NULL DEFAULT ''",
                        "ALTER TABLE security_events ADD COLUMN user_agent TEXT NOT NULL DEFAULT ''",
                        "ALTER TABLE security_events ADD COLUMN outcome TEXT NOT NULL DEFAULT 'success'",
                        "ALTER TABLE security_events ADD COLUMN request_id TEXT NOT NULL DEFAULT ''",
                        "CREATE INDEX security_events_time ON security_events (created_at)",
                    ]
            ),
            (
                12,
                [
                    // Issue 15: a verified address, and the links sent by e-mail. Only a token's SHA-256
                    // is kept (256 random bits need no salt or slow hash, NIST SP 800-63B §5.1.2.2), so a
                    // database dump holds no usable link. `email` is where the link went: for a change of
                    // address, the new address, which takes effect only when its link is used.
                    "ALTER TABLE users ADD COLUMN email_verified_at BIGINT",
                    """
                    CREATE TABLE email_tokens (
                        id \(id),
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        purpose TEXT NOT NULL,
                        token_hash TEXT NOT NULL UNIQUE,
                        email TEXT NOT NULL,
                        created_at BIGINT NOT NULL,
                        expires_at BIGINT NOT NULL,
                        second_factor_at BIGINT,
                        used_at BIGINT
                    )
                    """,
                    "CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose)",
                ]
            ),
            (
                13,
                [
                    // Issue 15: security alerts by e-mail, read off the one table every event is recorded in,
                    // so no path that records an event can forget its alert. NULL: not looked at yet.
                    // Events from before alerts existed are never mailed.
                    "ALTER TABLE security_events ADD COLUMN alert_state TEXT",
                    "UPDATE security_events SET alert_state = 'before'",
                    // Operator actions on no account (issue 16) have nobody to alert.
                    "CREATE INDEX security_events_unalerted ON security_events (id) WHERE alert_state IS NULL AND user_id IS NOT NULL",
                ]
            ),
            (
                14,
                [
                    // Issue 17: security keys and passkeys. Public keys are not secret (they verify, they
                    // cannot sign), so they are stored as they are, not sealed; the credential id is
                    // unique across accounts (W3C WebAuthn §7.1 step 22).
                    """
                    CREATE TABLE webauthn_credentials (
                        id \(id),
                        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                        credential_id TEXT NOT NULL UNIQUE,
                        public_key TEXT NOT NULL,
                        algorithm INTEGER NOT NULL,
                        sign_count BIGINT NOT NULL,
                        name TEXT NOT NULL,
                        is_passkey INTEGER NOT NULL DEFAULT 0,
                        transports TEXT NOT NULL DEFAULT '',
                        aaguid TEXT NOT NULL DEFAULT '',
                        created_at BIGINT NOT NULL,
                        last_used_at BIGINT
                    )
                    """,
                    "CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id)",
                    // The user handle given to authenticators (§5.4.3): random, never the address, so a
                    // passkey reveals nothing about who it belongs to.
                    """
                    CREATE TABLE webauthn_user_handles (
                        user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
                        handle TEXT NOT NULL UNIQUE
                    )
                    """,
                    // Challenges under way: found by the SHA-256 of the challenge the browser returns,
                    // used up by one conditional DELETE.
                    """
                    CREATE TABLE webauthn_challenges (
                        challenge_hash TEXT PRIMARY KEY,
                        purpose TEXT NOT NULL,
                        binding TEXT NOT NULL,
                        user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
                        created_at BIGINT NOT NULL,
                        expires_at BIGINT NOT NULL
                    )
                    """,
                    "CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at)",
                ]
            ),
            (
                15,
                [
                    // Issue 18: help-desk roles. Text, not a flag, so a third role is data, not a migration;
                    // every existing account starts as none (least privilege).
                    "ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'none'"
                ]
            ),
            (
                16,
                [
                    // Issue 18: when the operator's 2FA policy first applied to the account at a sign-in; the
                    // grace period (--grace-days) counts from here. NULL: it never has.
                    "ALTER TABLE users ADD COLUMN two_factor_grace_from BIGINT"
                ]
            ),
        ]
    }
}

extension Database {
    /// Applies the steps not applied yet; running it again changes nothing. On PostgreSQL several
    /// instances may start at once: an advisory lock lets one migrate while the others wait, then
    /// find nothing left to do (PostgreSQL's DDL is transactional, so a failed step leaves no trace).
    /// - Returns: The versions applied by this call.
    @discardableResult
    public func migrate() async throws -> [Int] {
        let dialect = dialect
        return try await transaction { sql in
            if dialect == .postgres {
                try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: Database.exclusiveLock + 1))").run()
            }
            try await sql.raw("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)").run()
            let done = Set(try await sql.raw("SELECT version FROM schema_migrations").all(decodingColumn: "version", as: Int.self))
            var applied: [Int] = []
            for step in Migrations.steps(dialect) where !done.contains(step.version) {
                for statement in step.statements {
                    try await sql.raw(SQLQueryString(statement)).run()
                    if statement.hasPrefix("PRAGMA writable_schema = OFF") {
                        // SQLite's documented way to reload an edited schema: bump its version.
                        let version = try await sql.raw("PRAGMA schema_version").first(decodingColumn: "schema_version", as: Int.self) ?? 0
                        try await sql.raw("PRAGMA schema_version = \(unsafeRaw: String(version + 1))").run()
                    }
                }
                try await sql.raw(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (\(bind: step.version), \(bind: UnixTime(Date().timeIntervalSince1970)))"
                ).run()
                applied.append(step.version)
            }
            return applied
        }
    }
}

extension Database.Dialect {
    /// Statements that drop a column's `NOT NULL`. SQLite cannot alter a column; its documented
    /// procedure for removing a NOT NULL constraint (lang_altertable.html, "other kinds of table
    /// schema changes") edits the table's definition in `sqlite_schema`, which changes nothing on
    /// disk, rather than copying the table (which would fire `ON DELETE CASCADE` on every child).
    /// - Parameters:
    ///   - column: The column's definition exactly as the table was created with it.
    func dropNotNull(table: String, column: String, becomes: String) -> [String] {
        switch self {
        case .sqlite:
            [
                "PRAGMA writable_schema = ON",
                "UPDATE sqlite_schema SET sql = replace(sql, '\(column)', '\(becomes)') WHERE type = 'table' AND name = '\(table)'",
                "PRAGMA writable_schema = OFF",
            ]
        case .postgres:
            ["ALTER TABLE \(table) ALTER COLUMN \(column.prefix(while: { $0 != " " })) DROP NOT NULL"]
        }
    }
}
