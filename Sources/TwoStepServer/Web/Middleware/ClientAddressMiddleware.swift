import HTTPTypes
import Hummingbird
import TwoStepStore

/// Resolves the client's address once per request (`ClientAddress.resolve`: the socket, or the
/// right-most untrusted `X-Forwarded-For` hop behind `--trusted-proxy`) and serves the request
/// inside `RequestOrigin.clientAddress`.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = TwoStepRequestContext
    let trustedProxies: [IPRange]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let address = ClientAddress.resolve(
            peer: context.peerAddress,
            forwardedFor: trustedProxies.isEmpty ? [] : request.headers[values: .xForwardedFor],
            trusted: trustedProxies
        )
        return try await RequestOrigin.$clientAddress.withValue(address) { try await next(request, context) }
    }
}
