import Testing
import TwoStepCore
import WebAuthnTestSupport

/// Runs `body` and checks it throws exactly `expected`.
func expectRefusal<T>(
    _ expected: WebAuthnError,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(WebAuthnError) -> T
) {
    do {
        _ = try body()
        Issue.record("accepted; expected \(expected)", sourceLocation: sourceLocation)
    } catch {
        #expect(error == expected, "\(error)", sourceLocation: sourceLocation)
    }
}
