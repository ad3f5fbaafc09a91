/// A relying party registered with `twostep client add` (issue 14).
public struct OIDCClient: Sendable, Equatable {
    public var clientID: String
    public var name: String
    /// SHA-256 of the client secret; `nil` for a public client (a browser or mobile app), which
    /// cannot keep a secret and so must prove each code with PKCE (RFC 7636, RFC 9700 §2.1.1).
    public var secretHash: String?
    /// Compared exactly, character for character (RFC 9700 §4.1.3: no prefix or pattern matching).
    public var redirectURIs: [String]
    /// Where RP-initiated logout may send the browser afterwards, compared exactly as well.
    public var postLogoutRedirectURIs: [String]
    /// Every sign-in for this client needs a second factor; an account without one enrols first.
    public var twoFactorsRequired: Bool
    public var createdAt: UnixTime

    public var isPublic: Bool { secretHash == nil }

    public init(
        clientID: String,
        name: String,
        secretHash: String?,
        redirectURIs: [String],
        postLogoutRedirectURIs: [String] = [],
        twoFactorsRequired: Bool = false,
        createdAt: UnixTime
    ) {
        self.clientID = clientID
        self.name = name
        self.secretHash = secretHash
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.twoFactorsRequired = twoFactorsRequired
        self.createdAt = createdAt
    }
}

/// An authorization code as stored: only its hash, bound to the client, the redirect URI and the
/// PKCE challenge it was issued for.
public struct AuthorizationCode: Sendable, Equatable {
    public var codeHash: String
    public var clientID: String
    public var userID: Int64
    public var redirectURI: String
    /// The S256 challenge (base64url SHA-256 of the verifier), when the client sent one.
    public var codeChallenge: String?
    public var nonce: String?
    public var scope: String
    /// The session's RFC 8176 method references, space separated.
    public var amr: String
    public var authTime: UnixTime
    public var createdAt: UnixTime
    public var expiresAt: UnixTime

    public init(
        codeHash: String,
        clientID: String,
        userID: Int64,
        redirectURI: String,
        codeChallenge: String?,
        nonce: String?,
        scope: String,
        amr: String,
        authTime: UnixTime,
        createdAt: UnixTime,
        expiresAt: UnixTime
    ) {
        self.codeHash = codeHash
        self.clientID = clientID
        self.userID = userID
        self.redirectURI = redirectURI
        self.codeChallenge = codeChallenge
        self.nonce = nonce
        self.scope = scope
        self.amr = amr
        self.authTime = authTime
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// What presenting a code at the token endpoint found.
public enum CodeRedemption: Sendable, Equatable {
    /// First use: the code is now spent.
    case redeemed(AuthorizationCode)
    /// Spent before: every access token it issued is revoked now (RFC 6749 §4.1.2).
    case reused(AuthorizationCode)
    case unknown
}

/// What an access token stands for.
public struct AccessTokenGrant: Sendable, Equatable {
    public var userID: Int64
    public var clientID: String
    public var scope: String
}

/// An ID-token signing key: the P-256 private key sealed under the master key.
public struct StoredSigningKey: Sendable, Equatable {
    public var kid: String
    public var sealedKey: String
    public var createdAt: UnixTime
    /// When `twostep keys rotate` replaced it; it is still published until its tokens expire.
    public var retiredAt: UnixTime?

    public init(kid: String, sealedKey: String, createdAt: UnixTime, retiredAt: UnixTime?) {
        self.kid = kid
        self.sealedKey = sealedKey
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }
}

/// Storage for the OpenID Connect provider (issue 14).
public protocol OIDCRepository: Sendable {
    /// - Throws: ``StoreError/duplicate`` when the name or client id is taken.
    func createOIDCClient(_ client: OIDCClient) async throws
    func oidcClient(clientID: String) async throws -> OIDCClient?
    func oidcClients() async throws -> [OIDCClient]
    /// Removes the client with its codes and tokens. - Returns: whether one was removed.
    func deleteOIDCClient(name: String) async throws -> Bool

    func createAuthorizationCode(_ code: AuthorizationCode) async throws
    /// Spends a code in one conditional statement, so of concurrent redemptions (on any number of
    /// instances) exactly one gets it; a later one finds it spent and revokes what it issued.
    func redeemAuthorizationCode(hash: String, at time: UnixTime) async throws -> CodeRedemption
    /// Records an access token issued from a redeemed code.
    func createAccessToken(hash: String, codeHash: String, expiresAt: UnixTime) async throws
    /// The grant of a live token whose code was never reused.
    func accessToken(hash: String, at time: UnixTime) async throws -> AccessTokenGrant?
    /// Forgets codes and tokens that expired before `time`.
    func deleteExpiredOIDCRecords(before time: UnixTime) async throws

    /// Every signing key, newest first.
    func signingKeys() async throws -> [StoredSigningKey]
    /// Adds a key; an existing `kid` is left as it is.
    func createSigningKey(_ key: StoredSigningKey) async throws
    /// Retires every live key but `kid`.
    func retireSigningKeys(except kid: String, at time: UnixTime) async throws
    /// Replaces a key's sealed copy (after a master-key rotation).
    func setSealedSigningKey(_ sealed: String, kid: String) async throws
    /// Forgets keys retired before `time`.
    func deleteSigningKeys(retiredBefore time: UnixTime) async throws
}
