import Foundation
import Testing
import TwoStepCore

@Suite("Base32")
struct Base32Tests {
    /// RFC 4648 §10.
    static let vectors = [
        ("", ""), ("f", "MY======"), ("fo", "MZXQ===="), ("foo", "MZXW6==="),
        ("foob", "MZXW6YQ="), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI======"),
    ]

    @Test("RFC 4648 §10", arguments: vectors)
    func rfc4648(plain: String, encoded: String) throws {
        #expect(Base32.encode(Array(plain.utf8)) == encoded)
        #expect(try Base32.decode(encoded) == Array(plain.utf8))
        let unpadded = String(encoded.prefix { $0 != "=" })
        #expect(Base32.encode(Array(plain.utf8), padding: false) == unpadded)
        #expect(try Base32.decode(unpadded.lowercased()) == Array(plain.utf8))
    }

    @Test func decodeIgnoresCaseSpacesAndPadding() throws {
        #expect(try Base32.decode("mzxw 6ytb oi") == Array("foobar".utf8))
        #expect(try Base32.decode("MzXw6YtBoI======") == Array("foobar".utf8))
        #expect(try Base32.decode("  ") == [])
    }

    @Test(
        "bad characters are named with their position",
        arguments: [
            ("MZXW6YT1", 7), ("MZXW6YT0", 7), ("8ZXW6YTB", 0), ("MZ-W6YTB", 2), ("MZXW6YTé", 7), ("MZ\nXW", 2), ("MZXW6YT\u{0}", 7),
        ]
    )
    func invalidCharacter(input: String, offset: Int) {
        #expect {
            try Base32.decode(input)
        } throws: { error in
            (error as? Base32Error) == .invalidCharacter && (error as? Base32Error)?.offset == offset
        }
    }

    @Test("lengths no encoder produces are refused", arguments: ["M", "MZX", "MZXW6Y", "MZXW6YTBO"])
    func invalidLength(input: String) {
        #expect(throws: Base32Error.invalidLength) { try Base32.decode(input) }
    }

    @Test func randomRoundTrips() throws {
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
            #expect(try Base32.decode(Base32.encode(bytes)) == bytes)
            #expect(try Base32.decode(Base32.encode(bytes, padding: false)) == bytes)
        }
    }
}

@Suite("otpauth:// key URIs")
struct OTPKeyURITests {
    let secret = Array("12345678901234567890".utf8)

    @Test func buildsTheGoogleAuthenticatorFormat() {
        let uri = OTPKeyURI(secret: secret, account: "alice@example.com", issuer: "ACME Co")
        #expect(
            uri.description
                == "otpauth://totp/ACME%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co"
        )
    }

    @Test func nonDefaultParametersAreIncluded() {
        let uri = OTPKeyURI(kind: .totp(period: 60), secret: secret, account: "a", issuer: nil, algorithm: .sha512, digits: 8)
        #expect(uri.description == "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA512&digits=8&period=60")
        let hotp = OTPKeyURI(kind: .hotp(counter: 7), secret: secret, account: "a", issuer: "I")
        #expect(hotp.description.hasPrefix("otpauth://hotp/I:a?") && hotp.description.hasSuffix("&counter=7"))
    }

    @Test func percentEncodesReservedAndNonASCIICharacters() {
        let uri = OTPKeyURI(secret: secret, account: "zoë+x@example.com", issuer: "Smith & Sons: Ltd")
        #expect(uri.description.hasPrefix("otpauth://totp/Smith%20%26%20Sons%3A%20Ltd:zo%C3%AB%2Bx%40example.com?"))
        #expect(uri.description.contains("&issuer=Smith%20%26%20Sons%3A%20Ltd"))
    }

    @Test(
        "round trips",
        arguments: [
            ("alice@example.com", "ACME Co"), ("zoë & co: ltd", "Ünïcødé 🔐"), ("a=b?c#d/e", "x%y+z"), ("  padded  ", "i"),
        ]
    )
    func roundTrip(account: String, issuer: String) throws {
        for kind in [OTPKeyURI.Kind.totp(period: 30), .totp(period: 45), .hotp(counter: 99)] {
            let uri = OTPKeyURI(kind: kind, secret: secret, account: account, issuer: issuer, algorithm: .sha256, digits: 7)
            let parsed = try OTPKeyURI(parsing: uri.description)
            #expect(parsed.account == account.trimmingCharacters(in: .whitespaces))
            #expect(parsed.issuer == issuer)
            #expect(parsed.kind == kind && parsed.secret == secret && parsed.algorithm == .sha256 && parsed.digits == 7)
        }
    }

    @Test func parsesWhatOtherIssuersWrite() throws {
        // Google's own example, an issuer only in the label, and lower-case/padded secrets.
        let google = try OTPKeyURI(parsing: "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example")
        #expect(google.account == "alice@google.com" && google.issuer == "Example" && google.kind == .totp(period: 30))
        let labelOnly = try OTPKeyURI(parsing: "OTPAUTH://TOTP/Big%20Corp:%20bob?secret=jbswy3dpehpk3pxp===&digits=8&algorithm=sha1")
        #expect(labelOnly.issuer == "Big Corp" && labelOnly.account == "bob" && labelOnly.digits == 8)
        let encodedColon = try OTPKeyURI(parsing: "otpauth://totp/Big%20Corp%3Abob?secret=JBSWY3DPEHPK3PXP&issuer=Big+Corp")
        #expect(encodedColon.issuer == "Big Corp" && encodedColon.account == "bob")
        let noIssuer = try OTPKeyURI(parsing: "otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&image=https%3A%2F%2Fx")
        #expect(noIssuer.issuer == nil && noIssuer.account == "bob")
    }

    @Test(
        "bad URIs are refused with the reason",
        arguments: [
            ("https://totp/a?secret=JBSWY3DPEHPK3PXP", OTPKeyURIError.notOTPAuth),
            ("otpauth://", .notOTPAuth),
            ("otpauth://totp", .notOTPAuth),
            ("otpauth://motp/a?secret=JBSWY3DPEHPK3PXP", .unsupportedType),
            ("otpauth://totp/a", .missingSecret),
            ("otpauth://totp/a?secret=", .missingSecret),
            ("otpauth://totp/a?secret=====", .missingSecret),
            ("otpauth://totp/a?secret=JBSWY3DPEHPK3PX1", .invalidSecret),
            ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", .invalidParameter("algorithm")),
            ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=9", .invalidParameter("digits")),
            ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=six", .invalidParameter("digits")),
            ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=0", .invalidParameter("period")),
            ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=-30", .invalidParameter("period")),
            ("otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP", .missingCounter),
            ("otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=-1", .invalidParameter("counter")),
            ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP", .invalidParameter("secret")),
            ("otpauth://totp/Evil:a?secret=JBSWY3DPEHPK3PXP&issuer=Good", .issuerMismatch),
            ("otpauth://totp/a%G1?secret=JBSWY3DPEHPK3PXP", .invalidEncoding),
            ("otpauth://totp/a%?secret=JBSWY3DPEHPK3PXP", .invalidEncoding),
            ("otpauth://totp/a%FF?secret=JBSWY3DPEHPK3PXP", .invalidEncoding),
        ]
    )
    func refused(text: String, error: OTPKeyURIError) {
        #expect(throws: error) { try OTPKeyURI(parsing: text) }
    }
}

@Suite("Phone numbers")
struct PhoneNumberTests {
    @Test(
        "normalised to E.164",
        arguments: [
            ("+31 6 1234 5612", "+31612345612"), ("0031 (0)6-1234.5612", "+31612345612"), ("0031 6-1234.5612", "+31612345612"),
            ("+1 (415) 555-2671", "+14155552671"), ("  +44 20 7946 0958 ", "+442079460958"), ("+49/30/901820", "+4930901820"),
        ] as [(String, String?)]
    )
    func normalised(input: String, e164: String?) {
        #expect(PhoneNumber(input)?.e164 == e164)
    }

    @Test(
        "refused",
        arguments: [
            "", "+", "0612345612", "612345612", "+0612345612", "+31 6 1234 561x", "+1234567", "+1234567890123456",
            "+31612345612; DROP TABLE", "+31 ６１２３４５６１２", "tel:+31612345612", "++31612345612",
        ]
    )
    func refused(input: String) {
        #expect(PhoneNumber(input) == nil)
    }

    @Test func masking() throws {
        #expect(try #require(PhoneNumber("+31612345612")).masked == "+31 •••• •••12")
        #expect(try #require(PhoneNumber("+3161234512")).masked == "+31 •••• ••12")
        #expect(try #require(PhoneNumber("+14155552671")).masked == "+1 •••• •••• 71")
        #expect(try #require(PhoneNumber("+35312345678")).masked == "+353 •••• ••78")
        #expect(try #require(PhoneNumber("+79161234567")).countryCode == "7")
    }
}
