import Foundation

/// How times are shown on the pages: UTC, to the minute, with the exact moment in `datetime`.
enum Format {
    static func time(_ date: Date) -> String {
        let iso = date.ISO8601Format()  // 2026-11-29T08:41:07Z
        return iso.prefix(10) + " " + iso.dropFirst(11).prefix(8) + " UTC"
    }

    static func minute(_ date: Date) -> String {
        let iso = date.ISO8601Format()
        return iso.prefix(10) + " " + iso.dropFirst(11).prefix(5) + " UTC"
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
