/// Where the request being served came from, for the whole of its handling: set once per request
/// by the server's `ClientAddressMiddleware` (like a trace context), read where a security event
/// is recorded (SPEC F10: events show the client address) and where attempts are counted per
/// source, so no signature between the socket and those two places has to carry it.
public enum RequestOrigin {
    /// The client's address (`ClientAddress.resolve`), or empty outside a request (operator commands).
    @TaskLocal public static var clientAddress = ""
}
