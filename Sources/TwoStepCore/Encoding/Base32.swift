/// Base32 as defined by RFC 4648 §6, the alphabet authenticator apps use for TOTP keys.
public enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// Maps an ASCII byte to its 5-bit value; 0xFF marks bytes outside the alphabet.
    /// Lower case is accepted because people type keys by hand.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() {
            table[Int(byte)] = UInt8(value)
            table[Int(byte) | 0x20] = UInt8(value)  // lower case (digits are unaffected: 0x32 | 0x20 == 0x32)
        }
        return table
    }()

    /// Encodes bytes as upper-case base32.
    /// - Parameters:
    ///   - bytes: The bytes to encode.
    ///   - padding: Whether to pad with `=` to a multiple of 8 characters. `otpauth://` URIs omit it.
    public static func encode(_ bytes: some Sequence<UInt8>, padding: Bool = true) -> String {
        var output = bytes.symbols(bitsPerSymbol: 5, alphabet: alphabet)
        if padding {
            while output.count % 8 != 0 { output.append(UInt8(ascii: "=")) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes base32 case-insensitively, ignoring spaces and `=` (keys are shown in groups, with or without padding).
    /// - Throws: ``Base32Error`` for a character outside the alphabet or a length no encoder produces.
    public static func decode(_ string: String) throws(Base32Error) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(string.utf8.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        var symbols = 0
        for (offset, byte) in string.utf8.enumerated() {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "=") { continue }
            let value = values[Int(byte)]
            guard value != 0xFF else { throw .invalidCharacter(at: offset) }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            symbols += 1
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // RFC 4648 §6: a final quantum has 2, 4, 5 or 7 symbols; 1, 3 or 6 cannot come from any input.
        guard [0, 2, 4, 5, 7].contains(symbols % 8) else { throw .invalidLength }
        return output
    }
}

/// Why a string is not valid base32.
public struct Base32Error: Error, Equatable, CustomStringConvertible {
    private enum Kind: Equatable {
        case invalidCharacter
        case invalidLength
    }

    private let kind: Kind
    /// The UTF-8 offset of the first bad character, where there is one.
    public let offset: Int?

    /// A character outside A–Z, 2–7 (any case), space and `=`.
    public static let invalidCharacter = Base32Error(kind: .invalidCharacter, offset: nil)
    /// A number of symbols that no base32 encoder produces.
    public static let invalidLength = Base32Error(kind: .invalidLength, offset: nil)

    static func invalidCharacter(at offset: Int) -> Base32Error { .init(kind: .invalidCharacter, offset: offset) }

    public static func == (lhs: Base32Error, rhs: Base32Error) -> Bool { lhs.kind == rhs.kind }

    public var description: String {
        switch kind {
        case .invalidCharacter:
            let position = offset.map { " at position \($0 + 1)" } ?? ""
            return "invalid base32: the character\(position) is not one of A-Z, 2-7"
        case .invalidLength:
            return "invalid base32: no encoded value has this length"
        }
    }
}

extension Sequence<UInt8> {
    /// The bytes as a big-endian bit stream cut into `bitsPerSymbol`-bit symbols, each looked up in
    /// `alphabet`; the last symbol is padded with zero bits (RFC 4648 base32 and base64url).
    func symbols(bitsPerSymbol: Int, alphabet: [UInt8]) -> [UInt8] {
        let mask = UInt32(1 << bitsPerSymbol) - 1
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in self {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= bitsPerSymbol {
                bits -= bitsPerSymbol
                output.append(alphabet[Int((buffer >> UInt32(bits)) & mask)])
            }
        }
        if bits > 0 {
            output.append(alphabet[Int((buffer << UInt32(bitsPerSymbol - bits)) & mask)])
        }
        return output
    }
}
