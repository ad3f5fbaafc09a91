/// Which phone numbers the server texts at all: an operator's allow-list of country calling codes,
/// and premium-rate and special ranges refused unless named.
///
/// International revenue share fraud (SMS pumping) sends codes to numbers whose operator pays the
/// attacker a share of the termination fee: premium-rate ranges and the non-geographic "international
/// networks" codes are the favourite targets (OWASP Automated Threats OAT-009 / SMS pumping; GSMA
/// IRSF guidance). A service whose users live in a few countries should allow only those.
public struct SMSDestinationPolicy: Sendable, Equatable {
    /// Digit prefixes of the E.164 number (calling codes such as `31`, or longer prefixes such as
    /// `1876`) that may be texted; empty allows every country.
    public var allowedPrefixes: [String]
    /// Special ranges the operator has chosen to allow after all (e.g. `882` for a satellite fleet).
    public var allowedSpecialPrefixes: [String]

    /// Refused unless allowed by ``allowedSpecialPrefixes``: ranges that bill the sender or pay the
    /// receiver, and calling codes that belong to no country.
    public static let specialPrefixes: [(prefix: String, what: String)] = [
        ("1900", "North American premium rate (+1 900)"),
        ("1976", "North American premium rate (+1 976)"),
        ("800", "international freephone (+800)"),
        ("808", "international shared cost (+808)"),
        ("870", "Inmarsat satellite (+870)"),
        ("878", "universal personal telecommunications (+878)"),
        ("881", "global mobile satellite systems (+881)"),
        ("882", "international networks (+882)"),
        ("883", "international networks (+883)"),
        ("888", "UN OCHA telecommunications (+888)"),
        ("979", "international premium rate (+979)"),
        ("991", "international public correspondence trial (+991)"),
        ("4470", "UK personal numbering (+44 70)"),
        ("449", "UK premium rate (+44 9)"),
    ]

    public init(allowedPrefixes: [String] = [], allowedSpecialPrefixes: [String] = []) {
        self.allowedPrefixes = allowedPrefixes
        self.allowedSpecialPrefixes = allowedSpecialPrefixes
    }

    /// Why a number is refused.
    public enum Refusal: Equatable, Sendable {
        /// Its country is not on the operator's list.
        case countryNotAllowed(callingCode: String)
        /// It is in a premium-rate or special range.
        case specialRange(prefix: String)
    }

    /// `nil` when the number may be texted.
    public func refusal(for number: PhoneNumber) -> Refusal? {
        let digits = number.e164.dropFirst()
        // An explicitly allowed special range is allowed outright, also past the country list.
        if allowedSpecialPrefixes.contains(where: { digits.hasPrefix($0) }) { return nil }
        if let special = Self.specialPrefixes.first(where: { digits.hasPrefix($0.prefix) }) { return .specialRange(prefix: special.prefix) }
        if !allowedPrefixes.isEmpty, !allowedPrefixes.contains(where: { digits.hasPrefix($0) }) {
            return .countryNotAllowed(callingCode: number.countryCode)
        }
        return nil
    }

    /// Reads a comma-separated list of calling codes or prefixes (`31,49,1` or `+31, +49`).
    /// - Returns: `nil` when an entry is not 1 to 15 digits.
    public static func prefixes(_ text: String) -> [String]? {
        var prefixes: [String] = []
        for entry in text.split(separator: ",") {
            var digits = String(entry).trimmingSpaces()
            if digits.hasPrefix("+") { digits.removeFirst() }
            digits = digits.filter { $0 != "-" && $0 != " " }
            guard (1...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0" else { return nil }
            prefixes.append(digits)
        }
        return prefixes
    }
}
