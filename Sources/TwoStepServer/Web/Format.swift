import Foundation
import HTTPTypes
import TwoStepStore

/// How times are shown on the pages: UTC, to the minute, with the exact moment in `datetime`.
enum Format {
    /// `2026-11-29 08:41:07 UTC`
    static func time(_ date: Date) -> String { utc(date, clockCharacters: 8) }

    /// `2026-11-29 08:41 UTC`
    static func minute(_ date: Date) -> String { utc(date, clockCharacters: 5) }

    private static func utc(_ date: Date, clockCharacters: Int) -> String {
        let iso = date.ISO8601Format()  // 2026-11-29T08:41:07Z
        return iso.prefix(10) + " " + iso.dropFirst(11).prefix(clockCharacters) + " UTC"
    }

    /// "a minute", "2 minutes", "90 seconds".
    static func span(_ seconds: Int64) -> String {
        switch seconds {
        case 60: "a minute"
        case let whole where whole % 60 == 0: "\(whole / 60) minutes"
        default: "\(seconds) seconds"
        }
    }

    /// "in 30 seconds", "in 2 minutes", "in 1 hour".
    static func inWords(until date: Date, from now: Date) -> String {
        let seconds = max(1, Int(date.timeIntervalSince(now).rounded(.up)))
        switch seconds {
        case ..<120: return "in \(seconds) seconds"
        case ..<7_200: return "in \(seconds / 60) minutes"
        default: return "in \(seconds / 3_600) hours"
        }
    }
}

extension Format {
    /// What the person is told after asking for a text message; the numbers are the configured limits.
    static func smsResult(_ result: SMSCodeService.SendResult, limits: SMSLimits) -> (notice: String?, error: String?) {
        switch result {
        case .sent(let masked):
            return ("We sent a code to \(masked). It expires in 5 minutes.", nil)
        case .limited(.cooldown(let retryAt)):
            return (nil, "A code was sent less than \(span(limits.cooldown)) ago. You can ask for a new one at \(time(Date(unixTime: retryAt))).")
        case .limited(.accountHourly(let retryAt)):
            return (nil, "You asked for \(limits.perAccountPerHour) codes in the last hour. You can ask again at \(time(Date(unixTime: retryAt))).")
        case .limited(.phoneDaily(let retryAt)):
            return (nil, "This number has had \(limits.perPhonePerDay) codes today. You can ask again at \(time(Date(unixTime: retryAt))).")
        case .limited(.serverHourly(let retryAt)), .limited(.serverDaily(let retryAt)):
            return (nil, "Text messages are paused on this server for now. Try again at \(time(Date(unixTime: retryAt))), or use another method.")
        case .destinationRefused:
            return (nil, "This server does not send text messages to that number's country or range. Use another number or the app.")
        case .failed:
            return (nil, "We could not send the text message just now. Please try again in a minute.")
        }
    }
}

extension Format {
    /// The status of a page that reports a text message not sent.
    static func smsStatus(_ result: SMSCodeService.SendResult) -> HTTPResponse.Status {
        switch result {
        case .sent: .ok
        case .destinationRefused: .unprocessableContent
        case .limited, .failed: .tooManyRequests
        }
    }
}

extension Format {
    /// What the person is told after a refused code: always when they may try again (SPEC §2).
    static func refusal(_ outcome: TwoFactorService.Verification, now: Date) -> String {
        switch outcome {
        case .accepted: ""
        case .rejected(nil): "That code is not right, or it was already used. Wait for a new code and try again."
        case .rejected(let retryAt?), .wait(let retryAt):
            "Too many wrong codes. For your security, try again \(Format.inWords(until: retryAt, from: now)) (at \(Format.time(retryAt)))."
        case .locked:
            "Too many wrong codes: sign-in with app codes is locked for this account. Use a recovery code, or ask your administrator to unlock it."
        }
    }

    /// What the person is told when "your password or a current security code" was refused.
    static func refusal(_ proof: TwoFactorService.Proof, now: Date) -> String {
        switch proof {
        case .confirmed: ""
        case .wrongPassword: "That password is not right."
        case .code(let verification): refusal(verification, now: now)
        case .proofMissing: "Enter your password or a current security code to confirm."
        case .tooManyAttempts(let retryAt): SignInController.tooManyAttempts(retryAt: retryAt, now: now)
        }
    }
}
