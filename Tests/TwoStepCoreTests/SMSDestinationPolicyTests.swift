import Testing
import TwoStepCore

@Suite("SMS destinations")
struct SMSDestinationPolicyTests {
    func number(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> PhoneNumber {
        try #require(PhoneNumber(text), sourceLocation: sourceLocation)
    }

    @Test func premiumAndSpecialRangesAreRefusedByDefault() throws {
        let policy = SMSDestinationPolicy()
        for (text, prefix) in [
            ("+1 900 555 0123", "1900"), ("+1 976 555 0123", "1976"), ("+882 1234 5678", "882"), ("+883 5100 1234", "883"),
            ("+979 1234 5678", "979"), ("+808 1234 5678", "808"), ("+870 7734 5678", "870"), ("+881 6 1234 5678", "881"),
            ("+44 70 1234 5678", "4470"), ("+44 909 876 5432", "449"),
        ] {
            #expect(policy.refusal(for: try number(text)) == .specialRange(prefix: prefix), "\(text)")
        }
        for ordinary in ["+1 415 555 0123", "+44 7700 900123", "+31 6 1234 5678", "+49 151 2345 6789", "+8801712345678"] {
            #expect(policy.refusal(for: try number(ordinary)) == nil, "\(ordinary)")
        }
    }

    @Test func anAllowListLimitsCountriesAndNamedSpecialRangesPass() throws {
        let policy = SMSDestinationPolicy(allowedPrefixes: ["31", "49", "1"], allowedSpecialPrefixes: ["882"])
        #expect(policy.refusal(for: try number("+31612345678")) == nil)
        #expect(policy.refusal(for: try number("+14155550123")) == nil)
        #expect(policy.refusal(for: try number("+447700900123")) == .countryNotAllowed(callingCode: "44"))
        #expect(policy.refusal(for: try number("+19005550123")) == .specialRange(prefix: "1900"), "+1 allowed, +1 900 still refused")
        #expect(policy.refusal(for: try number("+88212345678")) == nil, "named by the operator")
    }

    @Test func listsAreRead() {
        #expect(SMSDestinationPolicy.prefixes("31,49,1") == ["31", "49", "1"])
        #expect(SMSDestinationPolicy.prefixes("+31, +1-876") == ["31", "1876"])
        #expect(SMSDestinationPolicy.prefixes("31,x") == nil)
        #expect(SMSDestinationPolicy.prefixes("031") == nil)
    }
}
