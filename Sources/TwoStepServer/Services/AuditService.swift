import Foundation
import TwoStepCore
import TwoStepStore

/// The operator audit trail (issue 16): the security events with who acted, from where, and how it
/// ended, read a page at a time and pruned by age. Events are recorded where they happen, through
/// `SecurityEventRepository.recordEvent`; this only reads and prunes.
struct AuditService: Sendable {
    let store: any SecurityEventRepository & UserRepository
    let now: Now

    /// The most rows one page holds.
    static let maximumPage = 500

    enum QueryError: Error, Equatable { case noSuchUser }

    /// One page, newest first.
    /// - Parameters:
    ///   - email: Only this account's events.
    ///   - since: Only events at or after this time.
    ///   - before: The page after the one that ended with this event id.
    func page(email: String?, since: Date?, before: Int64?, limit: Int) async throws -> Result<[AuditEvent], QueryError> {
        var userID: Int64?
        if let email {
            guard let normalized = AccountService.normalizedEmail(email), let user = try await store.user(email: normalized) else {
                return .failure(.noSuchUser)
            }
            userID = user.id
        }
        let events = try await store.auditEvents(
            userID: userID,
            since: since?.unixTime,
            beforeID: before,
            limit: min(max(limit, 1), Self.maximumPage)
        )
        return .success(events)
    }

    /// One account's newest events, with who acted (the help-desk console's activity list).
    func events(userID: Int64, limit: Int) async throws -> [AuditEvent] {
        try await store.auditEvents(userID: userID, since: nil, beforeID: nil, limit: min(max(limit, 1), Self.maximumPage))
    }

    /// Deletes events older than `age` seconds. - Returns: how many.
    func prune(olderThan age: TimeInterval) async throws -> Int {
        try await store.deleteEvents(createdBefore: now().addingTimeInterval(-age).unixTime)
    }
}

/// An audit event as JSON, the same for `twostep audit --json` (one per line) and `GET /api/v1/audit`.
struct AuditEventBody: Encodable {
    struct Actor: Encodable {
        let kind: String
        let name: String?
    }

    struct Account: Encodable {
        let id: Int64
        let email: String?
    }

    let id: Int64
    let at: Date
    let kind: String
    let outcome: String
    let actor: Actor
    let user: Account?
    let clientAddress: String?
    let userAgent: String?
    let requestId: String?
    let detail: String

    init(_ event: AuditEvent) {
        id = event.id
        at = Date(unixTime: event.createdAt)
        kind = event.kind
        outcome = event.outcome
        // Events from before the audit trail have no actor recorded.
        actor = Actor(kind: event.actorKind.isEmpty ? "unrecorded" : event.actorKind, name: event.actorName.isEmpty ? nil : event.actorName)
        user = event.userID.map { Account(id: $0, email: event.email) }
        clientAddress = event.clientAddress.isEmpty ? nil : event.clientAddress
        userAgent = event.userAgent.isEmpty ? nil : event.userAgent
        requestId = event.requestID.isEmpty ? nil : event.requestID
        detail = event.detail
    }
}

/// Ages as operators type them: `90s`, `30m`, `24h`, `400d`, `2w`.
public enum Age {
    /// - Returns: Seconds, or `nil` unless a whole number and one of s, m, h, d, w.
    public static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let number = Int(text.dropLast()), number >= 0 else { return nil }
        let scale: Int? =
            switch unit {
            case "s": 1
            case "m": 60
            case "h": 3_600
            case "d": 86_400
            case "w": 604_800
            default: nil
            }
        guard let scale, number <= Int.max / scale else { return nil }
        return Double(number * scale)
    }
}
