import Foundation

/// Finds a key that appears twice in one JSON object. RFC 8259 §4 leaves duplicates' meaning open:
/// parsers differ (first wins, last wins), so a proxy or WAF in front may read a different value
/// than the server does. The API refuses such bodies instead of picking one (issue 12). Keys are
/// compared as the decoder reads them: escapes decoded, and `trust_device` the same as `trustDevice`.
enum JSONDuplicateKeys {
    /// An open object: its keys so far, and whether a string now would be a key. `nil` for an array.
    private struct Object {
        var keys: Set<String> = []
        var expectingKey = true
    }

    /// The first duplicated key, or `nil` (also for text that is not JSON: the decoder reports that).
    static func first(in bytes: some Collection<UInt8>) -> String? {
        // Mutated in place (`stack[top]?…`): taking an object out to insert a key copied its set
        // at every key, on every API request (issue 19).
        var stack: [Object?] = []
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            switch byte {
            case UInt8(ascii: "{"): stack.append(Object())
            case UInt8(ascii: "["): stack.append(nil)
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","): if !stack.isEmpty { stack[stack.count - 1]?.expectingKey = true }
            case UInt8(ascii: ":"): if !stack.isEmpty { stack[stack.count - 1]?.expectingKey = false }
            case UInt8(ascii: "\""):
                guard !stack.isEmpty, stack[stack.count - 1]?.expectingKey == true else {
                    // A value: only its end matters.
                    guard skipString(bytes, &index) else { return nil }
                    continue
                }
                guard let string = readString(bytes, &index) else { return nil }
                if stack[stack.count - 1]?.keys.insert(decodedKey(string)).inserted == false { return String(string.prefix(64)) }
            default: break
            }
        }
        return nil
    }

    /// Moves past a string after its opening quote; `false` if it does not end.
    private static func skipString<C: Collection<UInt8>>(_ bytes: C, _ index: inout C.Index) -> Bool {
        while index != bytes.endIndex {
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            if byte == UInt8(ascii: "\\"), index != bytes.endIndex {
                bytes.formIndex(after: &index)
            } else if byte == UInt8(ascii: "\"") {
                return true
            }
        }
        return false
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
                if utf16.isEmpty { return String(decoding: raw, as: UTF8.self) }  // no escapes
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
