public import Foundation

/// A time-based one-time password generator and verifier (RFC 6238) over a binary secret.
///
/// Nothing here reads the clock: every call takes the time, so the server passes `Date.now` and
/// tests pass fixed times.
public struct TOTP: Sendable {
    /// The HOTP generator the time steps are fed to.
    public let hotp: HOTP
    /// The length of a time step in seconds (RFC 6238's X; 30 by default).
    public let period: Int

    /// The widest window ``verify(_:at:window:lastUsedStep:)`` honours: ±10 steps is five minutes
    /// either way at 30 s, already far beyond any sane clock drift.
    public static let maximumWindow = 10

    /// Makes a generator.
    /// - Parameters:
    ///   - secret: The shared secret as raw bytes.
    ///   - algorithm: The HMAC hash.
    ///   - digits: The code length, 6 to 8.
    ///   - period: Seconds per step, at least 1.
    /// - Throws: ``OTPError`` for an empty secret, an unsupported length or period.
    public init(secret: some DataProtocol, algorithm: OTPAlgorithm = .sha1, digits: Int = 6, period: Int = 30) throws(OTPError) {
        guard period > 0 else { throw .unsupportedPeriod }
        self.hotp = try HOTP(secret: secret, algorithm: algorithm, digits: digits)
        self.period = period
    }

    /// The time step a moment falls in: floor((time − T0) / period) with T0 = the Unix epoch.
    /// Moments before the epoch fall in step 0.
    public func step(at time: Date) -> UInt64 {
        let seconds = time.timeIntervalSince1970
        guard seconds > 0 else { return 0 }
        guard seconds < 1.8e19 else { return UInt64.max / UInt64(period) }  // beyond UInt64 seconds
        return UInt64(seconds) / UInt64(period)
    }

    /// The code shown by an authenticator app at a moment.
    public func code(at time: Date) -> String {
        hotp.code(counter: step(at: time))
    }

    /// The code for a time step.
    public func code(step: UInt64) -> String {
        hotp.code(counter: step)
    }

    /// Checks a code typed at a moment.
    ///
    /// Every step in the window is computed and compared in constant time, whatever matches, so
    /// the time taken does not tell an attacker which step (if any) was close.
    ///
    /// - Parameters:
    ///   - code: What the person typed; spaces are ignored.
    ///   - time: When it was typed.
    ///   - window: How many steps before and after the current one are accepted (clock drift and
    ///     typing time; RFC 6238 §5.2 recommends at most one). Clamped to 0…``maximumWindow``.
    ///   - lastUsedStep: The step of the last code accepted for this factor. A code for that step
    ///     or an earlier one is a replay and is refused (RFC 6238 §5.2: a code is accepted once).
    /// - Returns: The step and offset matched, or why the code was refused.
    public func verify(_ code: String, at time: Date, window: Int = 1, lastUsedStep: UInt64? = nil) -> TOTPVerification {
        guard let typed = hotp.parse(code) else { return .rejected }
        let current = step(at: time)
        let window = min(max(0, window), Self.maximumWindow)
        var accepted: (step: UInt64, offset: Int)?
        var replayed: UInt64?
        for offset in -window...window {
            guard let candidate = Self.step(current, offset: offset),
                ConstantTime.equals(hotp.value(counter: candidate), typed)
            else { continue }
            if let last = lastUsedStep, candidate <= last {
                replayed = replayed ?? candidate
            } else if accepted == nil || offset.magnitude < accepted!.offset.magnitude {
                // When two steps share a code, the one closest to now wins.
                accepted = (candidate, offset)
            }
        }
        if let accepted { return .accepted(step: accepted.step, offset: accepted.offset) }
        if let replayed { return .replayed(step: replayed) }
        return .rejected
    }

    private static func step(_ current: UInt64, offset: Int) -> UInt64? {
        let (step, overflow) =
            offset < 0 ? current.subtractingReportingOverflow(UInt64(offset.magnitude)) : current.addingReportingOverflow(UInt64(offset.magnitude))
        return overflow ? nil : step
    }
}

/// The outcome of checking a TOTP code.
public enum TOTPVerification: Equatable, Sendable {
    /// The code is right for `step`, which is `offset` steps from the verifier's clock (negative:
    /// the device is behind). Record `step` as the factor's last used step.
    case accepted(step: UInt64, offset: Int)
    /// The code is right but for a step at or before the last accepted one: a replay.
    case replayed(step: UInt64)
    /// The code is wrong, malformed or outside the window.
    case rejected

    /// Whether the code may be let through.
    public var isAccepted: Bool {
        if case .accepted = self { true } else { false }
    }
}
