/// Reads the plainest JSON objects without `JSONDecoder`: string values only, every key known,
/// no escapes, ASCII throughout. Validate's body (`{"user": "…", "code": "…"}`) is always that in
/// practice, and decoding it with `JSONDecoder` plus the duplicate-key scan cost about a tenth of
/// a valid check's own CPU (issue 19). Anything else — another key, a number, an escape, a
/// duplicate, a byte outside ASCII, malformed text — answers `nil`, and the caller decodes the
/// body the general way (`Request.decodeJSON`), which also words every error.
enum FlatJSON {
    /// The values of `keys`, in their order, when `bytes` is an object of exactly those keys, each
    /// once, with plain string values.
    static func strings(_ keys: [String], in bytes: some Collection<UInt8>) -> [String]? {
        var values = [String?](repeating: nil, count: keys.count)
        var index = bytes.startIndex
        func skipSpace() {
            while index != bytes.endIndex, isSpace(bytes[index]) { bytes.formIndex(after: &index) }
        }
        func expect(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index != bytes.endIndex, bytes[index] == byte else { return false }
            bytes.formIndex(after: &index)
            return true
        }
        /// A string's body: printable ASCII without a backslash.
        func string() -> String? {
            guard expect(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index != bytes.endIndex {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: bytes[start..<index], as: UTF8.self)
                    bytes.formIndex(after: &index)
                    return text
                }
                guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
                bytes.formIndex(after: &index)
            }
            return nil
        }
        guard expect(UInt8(ascii: "{")) else { return nil }
        for position in keys.indices {
            guard position == 0 || expect(UInt8(ascii: ",")), let key = string(), let slot = keys.firstIndex(of: key),
                values[slot] == nil, expect(UInt8(ascii: ":")), let value = string()
            else { return nil }
            values[slot] = value
        }
        guard expect(UInt8(ascii: "}")) else { return nil }
        skipSpace()
        guard index == bytes.endIndex else { return nil }
        return values.compactMap { $0 }
    }

    /// JSON's white space (RFC 8259 §2).
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

/// A body of string fields that `Request.decodeJSON` reads without `JSONDecoder` when it is the
/// plainest JSON (`FlatJSON`); any other form is decoded as `Decodable`, with the same answers.
protocol FlatJSONDecodable: Decodable {
    /// The JSON keys, in the order `init(strings:)` takes their values.
    static var fields: [String] { get }
    init(strings: [String])
}
