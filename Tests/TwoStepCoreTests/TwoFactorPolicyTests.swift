import Foundation
import Testing
import TwoStepCore

/// The 2FA policy's pure rules (issue 18): who must enrol, by when, and with which methods.
@Suite("Two-factor policy")
struct TwoFactorPolicyTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let day: TimeInterval = 86_400

    @Test func requirementsParseAndRefuseWhatIsNotOne() throws {
        #expect(TwoFactorRequirement("none") == TwoFactorRequirement.none)
        #expect(TwoFactorRequirement("ALL") == .all)
        #expect(TwoFactorRequirement("domains:Example.com, corp.example") == .domains(["example.com", "corp.example"]))
        for bad in [
            "", "some", "domains:", "domains:example", "domains:a..example", "domains:-bad.example", "domains:ex ample.com", "domains:example.com,",
        ] {
            #expect(TwoFactorRequirement(bad) == nil, "\(bad)")
        }
    }

    /// Exact domain, any case, in the ASCII form addresses are stored in; never a subdomain or a suffix.
    @Test func aDomainMatchesOnlyItself() throws {
        let requirement = try #require(TwoFactorRequirement("domains:corp.example,Bücher.example"))
        #expect(requirement.applies(to: "ann@corp.example"))
        #expect(requirement.applies(to: "ann@CORP.Example"))
        #expect(requirement.applies(to: "dora@xn--bcher-kva.example"), "IDNA: the flag's Unicode domain is the stored A-label")
        #expect(!requirement.applies(to: "bob@sub.corp.example"), "a subdomain is another domain")
        #expect(!requirement.applies(to: "eve@corp.example.evil.test"))
        #expect(!requirement.applies(to: "eve@evilcorp.example"))
        #expect(!requirement.applies(to: "corp.example@elsewhere.test"), "the domain is after the last @")
        #expect(!requirement.applies(to: nil), "an account named only by a service's id has no domain")
        #expect(TwoFactorRequirement.all.applies(to: nil))
        #expect(!TwoFactorRequirement.none.applies(to: "ann@corp.example"))
    }

    @Test func methodListsParse() {
        #expect(TwoFactorMethod.list("app,sms,key") == Set(TwoFactorMethod.allCases))
        #expect(TwoFactorMethod.list(" App , key") == [.app, .key])
        #expect(TwoFactorMethod.list("") == nil, "allowing nothing would lock everyone out")
        #expect(TwoFactorMethod.list("app,fax") == nil)
        #expect(TwoFactorMethod.list("app,,sms") == nil)
    }

    /// The grace counts from the first sign-in under the policy; the last second is still in it.
    @Test func graceRunsFromTheFirstSignInToItsDeadline() {
        let policy = TwoFactorPolicy(requirement: .all, graceDays: 7)
        let deadline = start.addingTimeInterval(7 * Self.day)
        #expect(policy.standing(email: "a@b.example", methods: [], graceFrom: start, now: start) == .grace(.noMethod, deadline: deadline))
        #expect(TwoFactorPolicy.daysLeft(until: deadline, now: start) == 7)
        #expect(TwoFactorPolicy.daysLeft(until: deadline, now: start.addingTimeInterval(0.5 * Self.day)) == 7, "rounded up")
        #expect(TwoFactorPolicy.daysLeft(until: deadline, now: deadline.addingTimeInterval(-1)) == 1)
        #expect(
            policy.standing(email: "a@b.example", methods: [], graceFrom: start, now: deadline.addingTimeInterval(-1))
                == .grace(.noMethod, deadline: deadline)
        )
        #expect(policy.standing(email: "a@b.example", methods: [], graceFrom: start, now: deadline) == .enrolmentRequired(.noMethod))
        #expect(TwoFactorPolicy.daysLeft(until: deadline, now: deadline) == 0)
        #expect(TwoFactorPolicy.daysLeft(until: deadline, now: deadline.addingTimeInterval(Self.day)) == 0)
        // No start recorded yet: this moment is the first sign-in.
        #expect(
            policy.standing(email: "a@b.example", methods: [], graceFrom: nil, now: deadline)
                == .grace(.noMethod, deadline: deadline.addingTimeInterval(7 * Self.day))
        )
    }

    @Test func noGraceMeansAtOnce() {
        let policy = TwoFactorPolicy(requirement: .all, graceDays: 0)
        #expect(policy.standing(email: "a@b.example", methods: [], graceFrom: nil, now: start) == .enrolmentRequired(.noMethod))
        #expect(policy.standing(email: "a@b.example", methods: [], graceFrom: nil, now: start).isEnrolmentOnly)
        #expect(policy.standing(email: "a@b.example", methods: [.app], graceFrom: nil, now: start) == .satisfied)
    }

    @Test func onlyAccountsTheRequirementCoversMustEnrol() throws {
        let policy = TwoFactorPolicy(requirement: try #require(TwoFactorRequirement("domains:corp.example")), graceDays: 0)
        #expect(policy.standing(email: "ann@corp.example", methods: [], graceFrom: nil, now: start) == .enrolmentRequired(.noMethod))
        #expect(policy.standing(email: "bob@home.example", methods: [], graceFrom: nil, now: start) == .satisfied)
        #expect(
            TwoFactorPolicy().standing(email: "ann@corp.example", methods: [], graceFrom: nil, now: start) == .satisfied,
            "the default asks nothing"
        )
        #expect(TwoFactorPolicy().isInert)
    }

    /// A disallowed method asks its holder to switch whether or not 2FA is required (NIST SP 800-63B
    /// §5.1.3.3 makes SMS restricted); one allowed method among them is enough.
    @Test func onlyDisallowedMethodsMustSwitch() {
        let policy = TwoFactorPolicy(requirement: .none, graceDays: 7, allowedMethods: [.app, .key])
        #expect(!policy.isInert)
        #expect(
            policy.standing(email: "a@b.example", methods: [.sms], graceFrom: start, now: start)
                == .grace(.onlyDisallowedMethods, deadline: start.addingTimeInterval(7 * Self.day))
        )
        #expect(
            policy.standing(email: "a@b.example", methods: [.sms], graceFrom: start, now: start.addingTimeInterval(7 * Self.day))
                == .enrolmentRequired(.onlyDisallowedMethods)
        )
        #expect(policy.standing(email: "a@b.example", methods: [.sms, .app], graceFrom: nil, now: start) == .satisfied)
        #expect(policy.standing(email: "a@b.example", methods: [], graceFrom: nil, now: start) == .satisfied, "nothing required, nothing held")
    }
}
