public import Foundation

/// Who must use two-factor authentication (`--require-2fa all|none|domains:example.com,corp.example`).
public enum TwoFactorRequirement: Sendable, Equatable {
    /// Nobody has to (the default): 2FA is each account holder's choice.
    case none
    /// Every account.
    case all
    /// Accounts whose address is at exactly one of these domains (subdomains are other domains),
    /// held lower-case in their ASCII (IDNA A-label) form, the form addresses are stored in.
    case domains(Set<String>)

    /// Reads the flag's value; `nil` when it is none of the three forms or a domain is not a host name.
    public init?(_ text: String) {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "none": self = .none
        case "all": self = .all
        case let value where value.hasPrefix("domains:"):
            let names = value.dropFirst("domains:".count).split(separator: ",", omittingEmptySubsequences: false)
            var domains = Set<String>()
            for name in names {
                guard let domain = Self.asciiDomain(name.trimmingCharacters(in: .whitespaces)) else { return nil }
                domains.insert(domain)
            }
            guard !domains.isEmpty else { return nil }
            self = .domains(domains)
        default: return nil
        }
    }

    /// Whether an account with this (normalised, as stored) address must use 2FA. An account named
    /// only by a service's own id has no domain: only `all` covers it.
    public func applies(to email: String?) -> Bool {
        switch self {
        case .none: return false
        case .all: return true
        case .domains(let domains):
            guard let email, let at = email.lastIndex(of: "@") else { return false }
            return domains.contains(email[email.index(after: at)...].lowercased())
        }
    }

    /// How the operator wrote it, for the start-up line.
    public var description: String {
        switch self {
        case .none: "none"
        case .all: "all"
        case .domains(let domains): "domains:" + domains.sorted().joined(separator: ",")
        }
    }

    /// The domain as addresses are stored: NFKC, lower case, each non-ASCII label as `xn--` Punycode
    /// (the same rule as the server's address normalisation), so `Bücher.example` on the command line
    /// matches `name@xn--bcher-kva.example` in the database.
    static func asciiDomain(_ text: String) -> String? {
        DomainName.ascii(Substring(text.precomposedStringWithCompatibilityMapping.lowercased()))
    }
}

/// A kind of second factor an operator may allow or refuse (`--allowed-methods app,sms,key`).
public enum TwoFactorMethod: String, Sendable, CaseIterable, Comparable {
    /// An authenticator app (TOTP).
    case app
    /// Codes by text message. NIST SP 800-63B §5.1.3.3 makes authentication over the public telephone
    /// network RESTRICTED (SIM swap, number porting, SS7 interception): operators may refuse it.
    case sms
    /// A security key or passkey (WebAuthn).
    case key

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Reads `app,sms,key`; `nil` for an unknown name or an empty list (an operator who allows no
    /// method at all while requiring 2FA would lock everyone out).
    public static func list(_ text: String) -> Set<TwoFactorMethod>? {
        var methods = Set<TwoFactorMethod>()
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let method = TwoFactorMethod(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else { return nil }
            methods.insert(method)
        }
        return methods.isEmpty ? nil : methods
    }
}

/// The operator's 2FA policy (issue 18): who must have a second factor, how long they may put it
/// off, and which methods count. Pure: the time is passed in.
public struct TwoFactorPolicy: Sendable, Equatable {
    public var requirement: TwoFactorRequirement
    /// Days from the first sign-in after the policy applies to the account until it must enrol; 0 = at once.
    public var graceDays: Int
    public var allowedMethods: Set<TwoFactorMethod>

    public init(requirement: TwoFactorRequirement = .none, graceDays: Int = 7, allowedMethods: Set<TwoFactorMethod> = Set(TwoFactorMethod.allCases)) {
        self.requirement = requirement
        self.graceDays = graceDays
        self.allowedMethods = allowedMethods
    }

    /// Whether the policy can ever ask anything of an account: when not, no per-request look-up is needed.
    public var isInert: Bool { requirement == .none && allowedMethods == Set(TwoFactorMethod.allCases) }

    /// Why an account must set up a method.
    public enum Reason: Sendable, Equatable {
        /// The policy requires 2FA and the account has no method.
        case noMethod
        /// Every method the account has is one the operator no longer allows: it must switch.
        case onlyDisallowedMethods
        /// An operator removed the account's methods (`twostep user reset-2fa`): no grace, whatever the policy.
        case operatorReset
    }

    /// Where an account stands.
    public enum Standing: Sendable, Equatable {
        /// Nothing to do.
        case satisfied
        /// Must set up an allowed method by `deadline`; until then it may go on (**Not now**).
        case grace(Reason, deadline: Date)
        /// Past the deadline (or no grace at all): it may do nothing but set up an allowed method.
        case enrolmentRequired(Reason)

        /// Whether the account may reach nothing but enrolment.
        public var isEnrolmentOnly: Bool {
            if case .enrolmentRequired = self { true } else { false }
        }
    }

    /// Whether the account must do something, and by when.
    /// - Parameters:
    ///   - email: The account's stored address (for `domains:`).
    ///   - methods: The account's primary methods that are on (a recovery phone is no method).
    ///   - graceFrom: When the policy first applied to the account at a sign-in; `nil` if it never
    ///     has, which counts as now (the grace starts with this sign-in).
    public func standing(email: String?, methods: Set<TwoFactorMethod>, graceFrom: Date?, now: Date) -> Standing {
        let reason: Reason
        if !methods.isEmpty {
            guard methods.isDisjoint(with: allowedMethods) else { return .satisfied }
            reason = .onlyDisallowedMethods
        } else {
            guard requirement.applies(to: email) else { return .satisfied }
            reason = .noMethod
        }
        let deadline = self.deadline(graceFrom: graceFrom ?? now)
        return now < deadline ? .grace(reason, deadline: deadline) : .enrolmentRequired(reason)
    }

    /// The end of the grace that began at `graceFrom`.
    public func deadline(graceFrom: Date) -> Date {
        graceFrom.addingTimeInterval(TimeInterval(graceDays) * 86_400)
    }

    /// Whole days left until `deadline`, rounded up ("1 day left" until the very end), never below 0.
    public static func daysLeft(until deadline: Date, now: Date) -> Int {
        let seconds = deadline.timeIntervalSince(now)
        guard seconds > 0 else { return 0 }
        return Int((seconds / 86_400).rounded(.up))
    }
}
