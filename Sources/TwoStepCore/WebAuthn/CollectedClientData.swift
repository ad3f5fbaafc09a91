import Foundation

/// The parts of `clientDataJSON` (W3C WebAuthn §5.8.1) a relying party must check. The browser
/// writes it, so it is the only place the origin that really asked for the signature is recorded.
public struct CollectedClientData: Sendable, Equatable {
    /// The ceremony a client data object belongs to.
    public enum Ceremony: String, Sendable {
        case create = "webauthn.create"
        case get = "webauthn.get"
    }

    public let type: String
    public let challenge: [UInt8]
    public let origin: String
    public let crossOrigin: Bool

    /// Browsers write a few hundred bytes; anything far larger is not from a browser.
    static let maximumSize = 8 * 1024

    private struct Fields: Decodable {
        var type: String
        var challenge: String
        var origin: String
        var crossOrigin: Bool?
    }

    /// Parses `clientDataJSON` (§7.1 steps 5–6). Unknown members are ignored, as the spec requires
    /// for forward compatibility (e.g. `topOrigin`).
    public init(json: [UInt8]) throws(WebAuthnError) {
        guard json.count <= Self.maximumSize else { throw .malformedClientData("too large") }
        let fields: Fields
        do { fields = try JSONDecoder().decode(Fields.self, from: Data(json)) } catch {
            throw .malformedClientData("not a JSON object with type, challenge and origin")
        }
        guard let challenge = Base64URL.decode(fields.challenge) else { throw .malformedClientData("challenge is not base64url") }
        self.type = fields.type
        self.challenge = challenge
        self.origin = fields.origin
        self.crossOrigin = fields.crossOrigin ?? false
    }

    /// Checks §7.1 steps 7–10 (§7.2 steps 11–14): the ceremony type, the challenge, the origin.
    /// - Parameters:
    ///   - ceremony: `.create` for registration, `.get` for sign-in.
    ///   - challenge: The bytes this server issued for this session; compared in constant time so
    ///     response timing reveals nothing about a pending challenge.
    ///   - allowedOrigins: Origins exactly as the browser serialises them (`https://example.com`,
    ///     `http://127.0.0.1:8080`); no prefix or subdomain matching, which is what lets look-alike
    ///     hosts through.
    public func verify(ceremony: Ceremony, challenge expected: [UInt8], allowedOrigins: [String]) throws(WebAuthnError) {
        guard type == ceremony.rawValue else { throw .wrongType }
        guard !expected.isEmpty, ConstantTime.equals(challenge, expected) else { throw .wrongChallenge }
        guard allowedOrigins.contains(origin) else { throw .wrongOrigin }
        guard !crossOrigin else { throw .crossOrigin }
    }
}
