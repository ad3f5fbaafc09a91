import Foundation

/// A phone number in E.164 form (`+31612345612`): what SMS gateways take and what is stored.
///
/// Only international numbers are accepted (a leading `+` or `00`): without a country TwoStep would
/// have to guess one, and a wrong guess sends codes to a stranger.
public struct PhoneNumber: Hashable, Sendable, CustomStringConvertible {
    /// `+` and 8 to 15 digits (ITU-T E.164 allows at most 15).
    public let e164: String

    /// Normalises what a person typed: spaces, dashes, dots, slashes and parentheses are dropped,
    /// as is a bracketed trunk prefix `(0)`; a leading `00` becomes `+`.
    /// - Returns: `nil` for anything else: letters, no country code, too few or too many digits,
    ///   a country code starting with 0.
    public init?(_ input: String) {
        // "+31 (0)6 …": the national trunk prefix in brackets is not dialled from abroad.
        var text = Substring(input.trimmingSpaces().replacingOccurrences(of: "(0)", with: ""))
        if text.hasPrefix("00") {
            text = text.dropFirst(2)
        } else if text.hasPrefix("+") {
            text = text.dropFirst()
        } else {
            return nil
        }
        var digits = ""
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
            } else if !" -./()\u{A0}".contains(character) {
                return nil
            }
        }
        guard (8...15).contains(digits.count), digits.first != "0" else { return nil }
        e164 = "+" + digits
    }

    /// The country calling code (1–3 digits, ITU-T E.164 assignments).
    public var countryCode: String {
        let digits = e164.dropFirst()
        if "17".contains(digits.first!) { return String(digits.prefix(1)) }
        let two = String(digits.prefix(2))
        return Self.twoDigitCodes.contains(two) ? two : String(digits.prefix(3))
    }

    /// The number as shown on pages: country code and last two digits, the rest hidden
    /// (`+31 •••• ••12`), so a glance over a shoulder does not reveal it.
    public var masked: String {
        let national = e164.dropFirst(1 + countryCode.count)
        let hidden = String(repeating: "•", count: national.count - 2)
        let grouped = stride(from: 0, to: hidden.count, by: 4).map { start in
            String(hidden.dropFirst(start).prefix(4))
        }
        var groups = grouped
        if groups.last?.count == 4 { groups.append("") }
        groups[groups.count - 1] += national.suffix(2)
        return "+\(countryCode) " + groups.joined(separator: " ")
    }

    public var description: String { e164 }

    /// Calling codes with two digits; every other code after 1 and 7 has three.
    private static let twoDigitCodes: Set<String> = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
        "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ]
}

extension String {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
