/// A CBOR data item (RFC 8949), limited to what WebAuthn attestation objects, authenticator data
/// extensions and COSE keys contain: no floats, no tags, no indefinite lengths.
public indirect enum CBOR: Equatable, Sendable {
    case unsigned(UInt64)
    /// A negative integer, stored as in the encoding: the value is `-1 - n`.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    /// Map entries in encoded order; keys are unique (the decoder refuses duplicates).
    case map([CBORMapEntry])
    case bool(Bool)
    case null

    /// The value as a signed integer, if it is an integer that fits in `Int64`.
    public var integer: Int64? {
        switch self {
        case .unsigned(let value): value <= UInt64(Int64.max) ? Int64(value) : nil
        case .negative(let value): value <= UInt64(Int64.max) ? -1 - Int64(value) : nil
        default: nil
        }
    }

    /// The value for `key` if this is a map.
    public subscript(key: CBOR) -> CBOR? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The value for an integer key (COSE labels) if this is a map.
    public subscript(label: Int64) -> CBOR? {
        self[label >= 0 ? .unsigned(UInt64(label)) : .negative(UInt64(-1 - label))]
    }

    /// The value for a text key if this is a map.
    public subscript(name: String) -> CBOR? { self[.text(name)] }
}

/// One key/value pair of a CBOR map.
public struct CBORMapEntry: Equatable, Sendable {
    public var key: CBOR
    public var value: CBOR

    public init(key: CBOR, value: CBOR) {
        self.key = key
        self.value = value
    }
}

/// A strict CBOR decoder for data that comes from a client and is therefore hostile until verified.
///
/// It accepts only definite lengths, shortest-form heads (the CTAP2 canonical encoding authenticators
/// must use), valid UTF-8 text, unique map keys and the simple values false, true and null. Depth,
/// total size and every declared length are bounded before anything is allocated, so a few bytes
/// claiming a 4 GiB string or 10,000 nested arrays cannot exhaust memory or the stack.
public struct CBORDecoder: Sendable {
    /// Nesting allowed; a COSE key is 1 deep, an attestation object with a certificate chain 3.
    public var maximumDepth: Int
    /// Bytes allowed in one input; attestation objects with certificate chains are a few KiB.
    public var maximumSize: Int

    public init(maximumDepth: Int = 16, maximumSize: Int = 64 * 1024) {
        self.maximumDepth = maximumDepth
        self.maximumSize = maximumSize
    }

    /// Decodes exactly one data item that fills `bytes`: trailing bytes are refused, because data
    /// appended after a signed structure must not ride along unnoticed.
    public func decode(_ bytes: some Collection<UInt8>) throws(CBORError) -> CBOR {
        let input = Array(bytes)
        let (item, end) = try decodePrefix(input, from: 0)
        guard end == input.count else { throw .trailingBytes }
        return item
    }

    /// Decodes one data item starting at `offset` and returns it with the offset just after it.
    /// Authenticator data holds a COSE key followed by extensions with no length prefix, so its
    /// parser needs to know where each item ends.
    public func decodePrefix(_ input: [UInt8], from offset: Int) throws(CBORError) -> (CBOR, Int) {
        guard input.count <= maximumSize else { throw .tooLarge }
        var reader = Reader(bytes: input, position: offset)
        let item = try reader.item(depth: 0, maximumDepth: maximumDepth)
        return (item, reader.position)
    }

    private struct Reader {
        let bytes: [UInt8]
        var position: Int

        var remaining: Int { bytes.count - position }

        mutating func byte() throws(CBORError) -> UInt8 {
            guard position < bytes.count else { throw .truncated }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func take(_ count: UInt64) throws(CBORError) -> ArraySlice<UInt8> {
            guard count <= UInt64(remaining) else { throw .truncated }
            let end = position + Int(count)
            defer { position = end }
            return bytes[position..<end]
        }

        /// The head's argument (RFC 8949 §3), refusing non-shortest forms (RFC 8949 §4.2.1).
        mutating func argument(_ additional: UInt8) throws(CBORError) -> UInt64 {
            switch additional {
            case 0..<24:
                return UInt64(additional)
            case 24:
                let value = UInt64(try byte())
                guard value >= 24 else { throw .nonCanonical }
                return value
            case 25, 26, 27:
                let count = 1 << (additional - 24)
                var value: UInt64 = 0
                for byte in try take(UInt64(count)) { value = value << 8 | UInt64(byte) }
                let smallest: UInt64 = [25: 0x100, 26: 0x1_0000, 27: 0x1_0000_0000][additional]!
                guard value >= smallest else { throw .nonCanonical }
                return value
            case 31:
                throw .indefiniteLength
            default:
                throw .malformed
            }
        }

        mutating func item(depth: Int, maximumDepth: Int) throws(CBORError) -> CBOR {
            guard depth <= maximumDepth else { throw .tooDeep }
            let initial = try byte()
            let major = initial >> 5
            let additional = initial & 0x1F
            switch major {
            case 0:
                return .unsigned(try argument(additional))
            case 1:
                return .negative(try argument(additional))
            case 2:
                return .bytes(Array(try take(try argument(additional))))
            case 3:
                let utf8 = try take(try argument(additional))
                guard let text = String(validating: utf8, as: UTF8.self) else { throw .invalidText }
                return .text(text)
            case 4:
                let count = try argument(additional)
                // Every element takes at least one byte: a larger count is a lie, refused before allocating.
                guard count <= UInt64(remaining) else { throw .truncated }
                var elements: [CBOR] = []
                elements.reserveCapacity(Int(count))
                for _ in 0..<count { elements.append(try item(depth: depth + 1, maximumDepth: maximumDepth)) }
                return .array(elements)
            case 5:
                let count = try argument(additional)
                guard count <= UInt64(remaining / 2) else { throw .truncated }
                var entries: [CBORMapEntry] = []
                entries.reserveCapacity(Int(count))
                for _ in 0..<count {
                    let key = try item(depth: depth + 1, maximumDepth: maximumDepth)
                    // A duplicate key lets two parsers read different values from one signed object.
                    guard !entries.contains(where: { $0.key == key }) else { throw .duplicateKey }
                    entries.append(CBORMapEntry(key: key, value: try item(depth: depth + 1, maximumDepth: maximumDepth)))
                }
                return .map(entries)
            case 6:
                throw .unsupported("tag")
            default:
                switch additional {
                case 20: return .bool(false)
                case 21: return .bool(true)
                case 22: return .null
                case 25, 26, 27: throw .unsupported("floating-point number")
                case 31: throw .indefiniteLength
                default: throw .unsupported("simple value")
                }
            }
        }
    }
}

/// Why bytes are not acceptable CBOR.
public struct CBORError: Error, Equatable, CustomStringConvertible {
    private enum Kind: Equatable {
        case truncated, trailingBytes, tooDeep, tooLarge, indefiniteLength, nonCanonical
        case invalidText, duplicateKey, unsupported, malformed
    }

    private let kind: Kind
    private let detail: String

    private init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    /// The input ends inside a data item, or a length claims more bytes than there are.
    public static let truncated = CBORError(.truncated)
    /// Bytes follow the data item.
    public static let trailingBytes = CBORError(.trailingBytes)
    /// Arrays or maps nest deeper than the decoder allows.
    public static let tooDeep = CBORError(.tooDeep)
    /// The input is larger than the decoder allows.
    public static let tooLarge = CBORError(.tooLarge)
    /// An indefinite-length string, array or map (never produced by CTAP2 authenticators).
    public static let indefiniteLength = CBORError(.indefiniteLength)
    /// An integer or length not written in its shortest form.
    public static let nonCanonical = CBORError(.nonCanonical)
    /// A text string that is not valid UTF-8.
    public static let invalidText = CBORError(.invalidText)
    /// A map with the same key twice.
    public static let duplicateKey = CBORError(.duplicateKey)
    /// A reserved additional-information value.
    public static let malformed = CBORError(.malformed)
    /// A kind of data item WebAuthn does not use (tags, floats, other simple values).
    public static func unsupported(_ what: String) -> CBORError { CBORError(.unsupported, what) }

    public static func == (lhs: CBORError, rhs: CBORError) -> Bool { lhs.kind == rhs.kind }

    public var description: String {
        switch kind {
        case .truncated: "CBOR ends early or declares a length longer than the input"
        case .trailingBytes: "bytes follow the CBOR data item"
        case .tooDeep: "CBOR nests too deeply"
        case .tooLarge: "CBOR input is too large"
        case .indefiniteLength: "indefinite-length CBOR is not accepted"
        case .nonCanonical: "CBOR integer or length is not in its shortest form"
        case .invalidText: "CBOR text string is not valid UTF-8"
        case .duplicateKey: "CBOR map has a duplicate key"
        case .unsupported: "CBOR \(detail) is not accepted"
        case .malformed: "CBOR uses a reserved encoding"
        }
    }
}
