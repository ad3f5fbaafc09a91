import Foundation
public import TwoStepCore

/// Why a text message is sent; gateways may route or template by it.
public enum SMSPurpose: String, Sendable, Codable {
    case signIn = "sign_in"
    case enrolment
    case recoveryPhone = "recovery_phone"
}

/// One text message.
public struct SMSMessage: Sendable, Equatable, Codable {
    public var to: String
    public var body: String
    public var purpose: SMSPurpose

    public init(to: PhoneNumber, body: String, purpose: SMSPurpose) {
        self.to = to.e164
        self.body = body
        self.purpose = purpose
    }
}

/// Delivers text messages: `OutboxGateway` (development), `TwilioGateway`, `WebhookGateway`.
public protocol SMSGateway: Sendable {
    /// Hands the message to the provider.
    /// - Throws: ``SMSGatewayError``: `rejected` when the provider refuses this message (retrying
    ///   will not help), `unavailable` when it could not be reached or failed (try again later).
    func send(_ message: SMSMessage) async throws(SMSGatewayError)
}

/// A failed delivery. Messages say what went wrong without the message body or any credential.
public struct SMSGatewayError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The provider refused the message (bad number, blocked, unauthorised): do not retry.
        case rejected
        /// The provider could not be reached, timed out or failed: try again later.
        case unavailable
    }

    public let kind: Kind
    /// The provider's own error code, when it gave one (Twilio's `21211`, say).
    public let providerCode: String?
    public let description: String

    public init(_ kind: Kind, providerCode: String? = nil, _ description: String) {
        self.kind = kind
        self.providerCode = providerCode
        self.description = description
    }
}
