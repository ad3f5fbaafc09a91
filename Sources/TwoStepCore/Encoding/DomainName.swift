/// Host names in the ASCII form addresses are stored in (IDNA A-labels by our own Punycode).
public enum DomainName {
    /// The domain with every label in ASCII (RFC 5890 LDH rule), or `nil` if it is not a host name.
    /// - Parameter allows: A further rule each label must pass before it is converted (the address
    ///   rules refuse labels that mix scripts).
    public static func ascii(_ domain: Substring, allowing allows: (Substring) -> Bool = { _ in true }) -> String? {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return nil }
        var ascii: [String] = []
        for label in labels {
            guard !label.isEmpty, allows(label) else { return nil }
            let converted: String
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                converted = String(label)
            } else {
                guard label.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "-" }),
                    let puny = Punycode.encode(String(label))
                else { return nil }
                converted = "xn--" + puny
            }
            let letters = converted.utf8
            guard letters.count <= 63, letters.first != UInt8(ascii: "-"), letters.last != UInt8(ascii: "-"),
                letters.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") })
            else { return nil }
            ascii.append(converted)
        }
        let joined = ascii.joined(separator: ".")
        return joined.utf8.count <= 253 ? joined : nil
    }
}
