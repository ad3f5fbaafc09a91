import Foundation

/// Finds a key that appears twice in one JSON object. RFC 8259 §4 leaves duplicates' meaning open:
/// parsers differ (first wins, last wins), so a proxy or WAF in front may read a different value
/// than the server does. The API refuses such bodies instead of picking one (issue 12). Keys are
/// compared as the decoder reads them: escapes decoded, and `trust_device` the same as `trustDevice`.
enum JSONDuplicateKeys {
    private enum Container {
        case object(keys: Set<String>, expectingKey: Bool)
        case array
    }

    /// The first duplicated key, or `nil` (also for text that is not JSON: the decoder reports that).
    static func first(in bytes: some Collection<UInt8>) -> String? {
        var stack: [Container] = []
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            switch byte {
            case UInt8(ascii: "{"): stack.append(.object(keys: [], expectingKey: true))
            case UInt8(ascii: "["): stack.append(.array)
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                if case .object(let keys, _) = stack.last { stack[stack.count - 1] = .object(keys: keys, expectingKey: true) }
            case UInt8(ascii: ":"):
                if case .object(let keys, _) = stack.last { stack[stack.count - 1] = .object(keys: keys, expectingKey: false) }
            case UInt8(ascii: "\""):
                guard let string = readString(bytes, &index) else { return nil }
                if case .object(var keys, true) = stack.last {
                    let key = decodedKey(string)
                    if !keys.insert(key).inserted { return String(string.prefix(64)) }
                    stack[stack.count - 1] = .object(keys: keys, expectingKey: true)
                }
            default: break
            }
        }
        return nil
    }

    /// Reads a string body after its opening quote, decoding escapes; `nil` if it is malformed.
    private static func readString<C: Collection<UInt8>>(_ bytes: C, _ index: inout C.Index) -> String? {
        var utf16: [UInt16] = []
        var raw: [UInt8] = []
        func flush() {
            utf16 += String(decoding: raw, as: UTF8.self).utf16
            raw.removeAll()
        }
        while index != bytes.endIndex {
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            switch byte {
            case UInt8(ascii: "\""):
                flush()
                return String(decoding: utf16, as: UTF16.self)
            case UInt8(ascii: "\\"):
                guard index != bytes.endIndex else { return nil }
                let escape = bytes[index]
                bytes.formIndex(after: &index)
                flush()
                switch escape {
                case UInt8(ascii: "u"):
                    var value: UInt16 = 0
                    for _ in 0..<4 {
                        guard index != bytes.endIndex, let digit = hexValue(bytes[index]) else { return nil }
                        value = value << 4 | UInt16(digit)
                        bytes.formIndex(after: &index)
                    }
                    utf16.append(value)
                case UInt8(ascii: "b"): utf16.append(0x08)
                case UInt8(ascii: "f"): utf16.append(0x0C)
                case UInt8(ascii: "n"): utf16.append(0x0A)
                case UInt8(ascii: "r"): utf16.append(0x0D)
                case UInt8(ascii: "t"): utf16.append(0x09)
                default: utf16.append(UInt16(escape))  // \" \\ \/
                }
            default: raw.append(byte)
            }
        }
        return nil
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The key as `JSONDecoder.KeyDecodingStrategy.convertFromSnakeCase` turns it into a property name.
    private static func decodedKey(_ key: String) -> String {
        guard let first = key.firstIndex(where: { $0 != "_" }), let last = key.lastIndex(where: { $0 != "_" }) else { return key }
        let words = key[first...last].split(separator: "_")
        guard words.count > 1 else { return key }
        return String(key[..<first]) + ([words[0].lowercased()] + words.dropFirst().map { $0.capitalized }).joined()
            + String(key[key.index(after: last)...])
    }
}
