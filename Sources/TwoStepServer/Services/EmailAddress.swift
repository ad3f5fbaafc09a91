import Foundation
import TwoStepCore

/// One spelling per address, so one person cannot hold two accounts that look the same and a
/// relying service finds the account it means (issue 12).
///
/// - Refused: control characters, invisible format characters (zero-width spaces and joiners, the
///   byte-order mark) and bidirectional controls, which make an address read differently from
///   what it is (CVE-2021-42574, "Trojan Source"); and a part that mixes Latin, Greek and Cyrillic
///   letters, the classic look-alike (`pаypal` with a Cyrillic `а`).
/// - Normalised: Unicode NFKC (compatibility forms such as full-width `ｅ` become `e`), then lower case.
/// - Domains: an internationalised domain is stored in its ASCII form (`bücher.example` →
///   `xn--bcher-kva.example`, IDNA A-label by our own Punycode), so a whole-script look-alike of
///   a Latin domain is visibly different wherever the address is shown.
enum EmailAddress {
    static func normalized(_ input: String) -> String? {
        // The validate path runs this on every request: printable ASCII without spaces (nearly
        // every address) needs none of the Unicode work, and its letters are all one script.
        let ascii = input.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        let email: String
        if ascii {
            email = String(decoding: input.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        } else {
            let scalars = input.unicodeScalars
            let isSpace: (Unicode.Scalar) -> Bool = { $0.properties.isWhitespace }
            guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else { return nil }
            var trimmed = String(scalars[first...last])
            if !trimmed.utf8.allSatisfy({ $0 < 0x80 }) {
                guard trimmed.unicodeScalars.allSatisfy(isAllowed) else { return nil }
                trimmed = trimmed.precomposedStringWithCompatibilityMapping
            }
            email = trimmed.lowercased()
            guard email.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && isAllowed($0) }) else { return nil }
        }
        guard email.utf8.count <= 254 else { return nil }
        let singleScript: (Substring) -> Bool = { ascii || !isMixedScript($0) }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, singleScript(parts[0]), let domain = DomainName.ascii(parts[1], allowing: singleScript)
        else { return nil }
        let address = parts[0] + "@" + domain
        return address.utf8.count <= 254 ? address : nil
    }

    /// Letters, marks, digits, punctuation and symbols; never controls, format characters
    /// (zero-width, bidi), separators other than the ASCII space, private-use or unassigned points.
    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned: false
        case .spaceSeparator: scalar == " "
        default: true
        }
    }

    private enum Script { case latin, greek, cyrillic }

    /// Whether letters of more than one of Latin, Greek and Cyrillic appear together.
    private static func isMixedScript(_ text: Substring) -> Bool {
        var seen: Script?
        for scalar in text.unicodeScalars where scalar.properties.isAlphabetic {
            let script: Script
            switch scalar.value {
            case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF: script = .latin
            case 0x370...0x3FF, 0x1F00...0x1FFF: script = .greek
            case 0x400...0x52F, 0x1C80...0x1C8F, 0x2DE0...0x2DFF, 0xA640...0xA69F: script = .cyrillic
            default: continue
            }
            if let seen, seen != script { return true }
            seen = script
        }
        return false
    }
}
