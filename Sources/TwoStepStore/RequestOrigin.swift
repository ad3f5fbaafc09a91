import Synchronization

/// Where the request being served came from, for the whole of its handling: set once per request
/// by the server's `ClientAddressMiddleware` (like a trace context), read where a security event
/// is recorded (SPEC F10: events show the client address) and where attempts are counted per
/// source, so no signature between the socket and those two places has to carry it.
public enum RequestOrigin {
    /// The client's address (`ClientAddress.resolve`), or empty outside a request (operator commands).
    @TaskLocal public static var clientAddress = ""
}

extension RequestOrigin {
    /// The operator running a `twostep` command (their login, or `--operator`); `nil` in the server.
    @TaskLocal public static var operatorName: String?

    /// The support or admin account acting at the help-desk console (issue 18), for the audit
    /// trail: the action is theirs, not the account holder's whose account it changes.
    @TaskLocal public static var staffName: String?

    /// Who is acting, for the audit trail: the operator of a command; else, in a request, the
    /// relying service's key or the account holder; else the server itself.
    public static var actor: (kind: ActorKind, name: String) {
        if let operatorName { return (.operator, operatorName) }
        if let staffName { return (.staff, staffName) }
        guard let trace else { return (.system, "") }
        if let key = trace.apiKeyName { return (.apiKey, key) }
        return (.accountHolder, "")
    }

    /// The request being served, for its log lines and its security events; `nil` outside a
    /// request (operator commands, background work).
    @TaskLocal public static var trace: RequestTrace?
}

/// What is known about a request while it is served: set by the server's middleware (its id, the
/// browser), completed as the request is identified (the account, the API key).
public final class RequestTrace: Sendable {
    /// `X-Request-Id` from a trusted proxy, or made here; returned in the response.
    public let requestID: String
    /// The `User-Agent`, cut to a sane length.
    public let userAgent: String
    private struct Identity {
        var userID: Int64?
        var apiKeyName: String?
    }
    private let identity = Mutex(Identity())

    public init(requestID: String, userAgent: String) {
        self.requestID = requestID
        self.userAgent = userAgent
    }

    /// The account the request acts for, once known (a session, a bearer token, an API key's user).
    public var userID: Int64? { identity.withLock { $0.userID } }
    /// The relying service's key that authenticated the request, if any.
    public var apiKeyName: String? { identity.withLock { $0.apiKeyName } }

    public func identify(userID: Int64) { identity.withLock { $0.userID = userID } }
    public func identify(apiKeyName: String) { identity.withLock { $0.apiKeyName = apiKeyName } }
}
