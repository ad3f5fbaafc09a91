import Foundation
import TwoStepServer

#if DEBUG
    /// The server's clock, moved by tests: `TWOSTEP_TEST_CLOCK_FILE` names a file holding an offset in
    /// seconds (`864000` is ten days on), read again every time the server asks the time, so a browser
    /// test moves a running server past a 2FA grace deadline (issue 18) without waiting days or
    /// restarting it (a restart would lose nothing, but the browser's session would have to be made again).
    ///
    /// Compiled only into debug builds (the browser suite runs `.build/debug/twostep`, `.ci/run` builds
    /// no release): a release binary has no code that reads this variable, so nothing an attacker or a
    /// careless deployment sets can shorten a grace period, age a lockout or revive an expired code.
    /// An environment variable alone, kept in release builds, would be one stray line in a unit file away
    /// from doing exactly that.
    enum TestClockFile {
        static let variable = "TWOSTEP_TEST_CLOCK_FILE"

        /// The moved clock, or `nil` when the variable is not set.
        static func now() -> Now? {
            guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else { return nil }
            return {
                let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                return Date().addingTimeInterval(TimeInterval(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
            }
        }
    }
#endif
