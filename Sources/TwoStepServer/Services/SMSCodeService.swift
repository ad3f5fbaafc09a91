import Foundation
import Logging
import TwoStepCore
import TwoStepStore

/// Codes sent by text message, for the SMS method and the recovery phone (SPEC F5, F8, §2):
/// 6 digits from the CSPRNG, valid 5 minutes, single use, at most 5 guesses each.
///
/// Against SMS pumping every message, on every path (enrolment, resend, recovery phone, sign-in,
/// the API), goes through `send`: the destination must be allowed, and the limits (per account,
/// per number, the server's hourly and daily budget, the cooldown) are taken in the append-only
/// send log before the gateway is called.
struct SMSCodeService: Sendable {
    /// Challenges, and the send log every limit is counted over.
    let store: any SMSChallengeRepository & SMSSendLogRepository
    let keyRing: KeyRing
    let gateway: any SMSGateway
    let limits: SMSLimits
    let destinations: SMSDestinationPolicy
    let metrics: ServerMetrics
    let now: Now
    let logger: Logger

    static let lifetime: TimeInterval = 5 * 60
    static let maximumGuesses = 5

    enum SendResult: Equatable {
        case sent(masked: String)
        case limited(SMSLimit)
        /// The server does not text this number's country or range.
        case destinationRefused(SMSDestinationPolicy.Refusal)
        /// The gateway failed. The message still counts (a provider that timed out may have
        /// delivered it); the code cannot be guessed.
        case failed(String)
    }

    private static func sealContext(_ factorID: Int64) -> String { "sms:factor:\(factorID)" }

    /// Sends a new code to the factor's phone, if the limits allow.
    func send(for factor: Factor, purpose: SMSPurpose, issuer: String) async throws -> SendResult {
        guard let phoneText = factor.phone, let phone = PhoneNumber(phoneText) else { return .failed("no phone number") }
        var random = SystemRandomNumberGenerator()  // the OS CSPRNG; random(in:) has no modulo bias
        let code = String(format: "%06d", UInt32.random(in: 0..<1_000_000, using: &random))
        if let refusal = destinations.refusal(for: phone) {
            metrics.sms(.destinationRefused)
            return .destinationRefused(refusal)
        }
        let time = now()
        if let limit = try await store.recordSMSSend(
            userID: factor.userID,
            phone: phone.e164,
            purpose: purpose.rawValue,
            at: time.unixTime,
            limits: limits
        ) {
            switch limit {
            case .serverHourly, .serverDaily:
                logger.warning("SMS budget of the server spent", metadata: ["limit": "\(limit)", "purpose": "\(purpose.rawValue)"])
            default: break
            }
            metrics.sms(.limited)
            return .limited(limit)
        }
        let challenge = try await store.createSMSChallenge(
            userID: factor.userID,
            factorID: factor.id,
            phone: phone.e164,
            sealedCode: keyRing.seal(Array(code.utf8), context: Self.sealContext(factor.id)),
            at: time.unixTime,
            expiresAt: time.addingTimeInterval(Self.lifetime).unixTime
        )
        let body = "\(code) is your \(issuer) security code. It expires in 5 minutes. Don’t share it with anyone."
        do {
            try await gateway.send(SMSMessage(to: phone, body: body, purpose: purpose))
        } catch {
            // The gateway's reason (never the code or a credential) is for the operator.
            logger.error("SMS not sent", metadata: ["reason": "\(error.description)", "kind": "\(error.kind)", "purpose": "\(purpose.rawValue)"])
            try await store.deleteSMSChallenge(id: challenge.id)
            metrics.sms(.gatewayFailed)
            return .failed(error.description)
        }
        metrics.sms(.sent)
        return .sent(masked: phone.masked)
    }

    /// Whether `code` is the factor's current, unexpired, unused code. Every guess counts; after
    /// five the code is dead even if the sixth would be right.
    func check(_ code: String, factor: Factor) async throws -> Bool {
        let typed = code.filter { $0 != " " }
        guard typed.count == 6, typed.allSatisfy({ $0.isASCII && $0.isNumber }),
            let challenge = try await store.latestSMSChallenge(factorID: factor.id),
            challenge.usedAt == nil, now().unixTime < challenge.expiresAt,
            try await store.recordSMSGuess(challengeID: challenge.id, maximum: Self.maximumGuesses)
        else { return false }
        let sent = try keyRing.open(challenge.sealedCode, context: Self.sealContext(factor.id))
        guard ConstantTime.equals(Array(typed.utf8), sent) else { return false }
        return try await store.consumeSMSChallenge(id: challenge.id, at: now().unixTime)
    }

    /// Whether a code for this factor is out and still usable (the page then offers "Resend").
    func hasActiveCode(for factor: Factor) async throws -> Bool {
        guard let challenge = try await store.latestSMSChallenge(factorID: factor.id) else { return false }
        return challenge.usedAt == nil && now().unixTime < challenge.expiresAt && challenge.attempts < Self.maximumGuesses
    }
}
