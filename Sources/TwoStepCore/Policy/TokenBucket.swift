public import Foundation

/// A budget of failures for one source (a client address, an API key), refilled over time: a
/// source may fail ``capacity`` times at once, then once per ``refillInterval`` (OWASP: throttle
/// per source as well as per account, so one source cannot lock out many accounts).
public struct TokenBucket: Sendable, Equatable {
    public var capacity: Double
    /// Seconds for one token to come back.
    public var refillInterval: TimeInterval

    public init(capacity: Double, refillInterval: TimeInterval) {
        self.capacity = capacity
        self.refillInterval = refillInterval
    }

    /// The tokens a source has, as stored between requests.
    public struct Level: Equatable, Sendable {
        public var tokens: Double
        public var at: Date

        public init(tokens: Double, at: Date) {
            self.tokens = tokens
            self.at = at
        }

        /// `tokens;unixTime`.
        public var encoded: String { "\(tokens);\(at.timeIntervalSince1970)" }

        public init?(encoded: String) {
            let parts = encoded.split(separator: ";")
            guard parts.count == 2, let tokens = Double(parts[0]), let at = TimeInterval(parts[1]) else { return nil }
            self.tokens = tokens
            self.at = Date(timeIntervalSince1970: at)
        }
    }

    /// The level at `now`: refilled since it was stored, never above ``capacity``. A source never seen is full.
    public func level(_ stored: Level?, now: Date) -> Level {
        guard let stored else { return Level(tokens: capacity, at: now) }
        let refilled = stored.tokens + max(0, now.timeIntervalSince(stored.at)) / refillInterval
        return Level(tokens: min(capacity, refilled), at: max(now, stored.at))
    }

    public enum Decision: Equatable, Sendable {
        /// One token taken: the new level to store.
        case taken(Level)
        /// No token left before `retryAt`.
        case wait(retryAt: Date)
    }

    /// Takes one token at `now`, or says when one will be there.
    public func take(_ stored: Level?, now: Date) -> Decision {
        var level = level(stored, now: now)
        guard level.tokens >= 1 else { return .wait(retryAt: level.at.addingTimeInterval((1 - level.tokens) * refillInterval)) }
        level.tokens -= 1
        return .taken(level)
    }

    /// Gives a token back (the attempt succeeded, so it was no failure).
    public func giveBack(_ stored: Level?, now: Date) -> Level {
        var level = level(stored, now: now)
        level.tokens = min(capacity, level.tokens + 1)
        return level
    }

    /// Whether the stored level is full again (the row can go).
    public func isFull(_ stored: Level, now: Date) -> Bool {
        level(stored, now: now).tokens >= capacity
    }
}
