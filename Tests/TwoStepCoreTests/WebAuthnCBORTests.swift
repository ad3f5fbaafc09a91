import Testing
import TwoStepCore
import WebAuthnTestSupport

/// The strict CBOR decoder (RFC 8949) that reads client-supplied attestation objects and COSE keys.
@Suite("WebAuthn CBOR decoder")
struct WebAuthnCBORTests {
    let decoder = CBORDecoder()

    func refuses(_ bytes: [UInt8], _ expected: CBORError, decoder: CBORDecoder = CBORDecoder(), sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: expected, sourceLocation: sourceLocation) { try decoder.decode(bytes) }
    }

    @Test func decodesTheItemsWebAuthnUses() throws {
        // RFC 8949 Appendix A examples.
        #expect(try decoder.decode([0x00]) == .unsigned(0))
        #expect(try decoder.decode([0x18, 0x64]) == .unsigned(100))
        #expect(try decoder.decode([0x1B, 0x00, 0x00, 0x00, 0xE8, 0xD4, 0xA5, 0x10, 0x00]) == .unsigned(1_000_000_000_000))
        #expect(try decoder.decode([0x38, 0x63]).integer == -100)
        #expect(try decoder.decode([0x39, 0x01, 0x00]).integer == -257)
        #expect(try decoder.decode([0x3B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).integer == nil)  // below Int64.min
        #expect(try decoder.decode([0x44, 1, 2, 3, 4]) == .bytes([1, 2, 3, 4]))
        #expect(try decoder.decode([0x62, 0xC3, 0xBC]) == .text("ü"))
        #expect(
            try decoder.decode([0x83, 0x01, 0x82, 0x02, 0x03, 0x82, 0x04, 0x05])
                == .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])])
        )
        let map = try decoder.decode([0xA2, 0x61, 0x61, 0x01, 0x20, 0xF5])
        #expect(map["a"] == .unsigned(1))
        #expect(map[-1] == .bool(true))
        #expect(try decoder.decode([0xF4]) == .bool(false))
        #expect(try decoder.decode([0xF6]) == .null)
    }

    @Test func truncatedInputIsRefused() {
        for bytes: [UInt8] in [[], [0x18], [0x19, 0x01], [0x44, 1, 2, 3], [0x82, 0x01], [0xA1, 0x01], [0x62, 0x61], [0x3A, 0, 0]] {
            refuses(bytes, .truncated)
        }
        // A length claiming 4 GiB (or 2^64) is refused before anything is allocated.
        refuses([0x5A, 0xFF, 0xFF, 0xFF, 0xFF], .truncated)
        refuses([0x9B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], .truncated)
        refuses([0xBB, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], .truncated)
    }

    @Test func indefiniteLengthsAreRefused() {
        for bytes: [UInt8] in [[0x5F, 0x41, 0x00, 0xFF], [0x7F, 0x61, 0x61, 0xFF], [0x9F, 0xFF], [0xBF, 0xFF], [0xFF]] {
            refuses(bytes, .indefiniteLength)
        }
    }

    @Test func nestingBeyondTheLimitIsRefusedWithoutExhaustingTheStack() {
        refuses([UInt8](repeating: 0x81, count: 50_000) + [0x00], .tooDeep)
        refuses([UInt8](repeating: 0xA1, count: 50_000) + [0x00], .tooDeep)
        let shallow = CBORDecoder(maximumDepth: 2)
        #expect(throws: Never.self) { try shallow.decode([0x81, 0x81, 0x00]) }
        refuses([0x81, 0x81, 0x81, 0x00], .tooDeep, decoder: shallow)
    }

    @Test func oversizeInputIsRefused() {
        let small = CBORDecoder(maximumSize: 64)
        refuses([0x58, 0x40] + [UInt8](repeating: 0, count: 64), .tooLarge, decoder: small)
        #expect(throws: Never.self) { try small.decode([0x58, 0x3E] + [UInt8](repeating: 0, count: 62)) }
        refuses([0x5A, 0x00, 0x01, 0x00, 0x00] + [UInt8](repeating: 0, count: 65_536), .tooLarge)
    }

    @Test func trailingBytesAreRefused() {
        refuses([0x00, 0x00], .trailingBytes)
        refuses([0xA0, 0xA0], .trailingBytes)
    }

    @Test func nonShortestFormsAreRefused() {
        for bytes: [UInt8] in [
            [0x18, 0x17], [0x19, 0x00, 0xFF], [0x1A, 0x00, 0x00, 0xFF, 0xFF], [0x1B, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF], [0x58, 0x01, 0x00],
        ] {
            refuses(bytes, .nonCanonical)
        }
    }

    @Test func itemsWebAuthnNeverUsesAreRefused() {
        refuses([0xF9, 0x3C, 0x00], .unsupported(""))  // half float 1.0
        refuses([0xFB, 0x3F, 0xF1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A], .unsupported(""))  // 1.1
        refuses([0xC1, 0x00], .unsupported(""))  // tag 1
        refuses([0xF7], .unsupported(""))  // undefined
        refuses([0xF8, 0x20], .unsupported(""))
        refuses([0x1C], .malformed)
        refuses([0x62, 0xC3, 0x28], .invalidText)
        refuses([0xA2, 0x01, 0x00, 0x01, 0x00], .duplicateKey)
    }
}
