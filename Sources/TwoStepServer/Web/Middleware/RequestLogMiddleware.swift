import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TwoStepCore
import TwoStepStore

/// Gives every request an id and logs one line when it is answered: method, route template,
/// status, duration, and the account once known (issue 16).
///
/// The id is `X-Request-Id` when a trusted proxy (`--trusted-proxy`) sent a well-formed one, so a
/// request can be followed from the proxy's log into ours; otherwise it is made here. Either way
/// it is returned in the response. A client's own header is ignored: it could forge or flood ids.
///
/// OWASP Logging Cheat Sheet, "Data to exclude": the line names the route template
/// (`/api/v1/users/{user}`), never the path, query or body, which carry addresses, codes and
/// tokens; the account is its numeric id, not its address.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = TwoStepRequestContext
    let trustedProxies: [IPRange]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let id = requestID(request, context)
        let trace = RequestTrace(requestID: id, userAgent: String((request.headers[.userAgent] ?? "").prefix(256)))
        // The log handler (`LogLineHandler`) adds the trace's id to every line logged in here,
        // so the logger's metadata is not changed per request.
        return try await RequestOrigin.$trace.withValue(trace) {
            var response: Response
            do {
                response = try await next(request, context)
            } catch let error as any HTTPResponseError {
                // Answered here rather than by the framework, so errors carry the id too.
                response = try error.response(from: request, context: context)
            } catch {
                // By type only, and with the id, whatever the handler (swift-log's own would print
                // an `error:`'s description, which may quote a value).
                context.logger.error(
                    "request failed",
                    metadata: ["error_type": .errorType(error), "request_id": .string(id)]
                )
                response = Response(status: .internalServerError)
            }
            response.headers[.xRequestID] = id
            log(context.logger, request, context, trace, status: response.status.code, started: started)
            return response
        }
    }

    private func log(_ logger: Logger, _ request: Request, _ context: Context, _ trace: RequestTrace, status: Int, started: ContinuousClock.Instant) {
        let level: Logger.Level = status >= 500 ? .error : .info
        // Under --log-level warning (the benchmark, busy servers) the line is not even built.
        guard logger.logLevel <= level else { return }
        let elapsed = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue.count <= 16 ? request.method.rawValue : "other"),
            "route": .string(context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"),
            "status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.2f", Double(elapsed.nanoseconds) / 1_000_000)),
            // The request's own line names it for any handler, not only ours (an app that embeds the server).
            "request_id": .string(trace.requestID),
        ]
        if let user = trace.userID { metadata["user_id"] = .stringConvertible(user) }
        if let key = trace.apiKeyName { metadata["api_key"] = .string(key) }
        logger.log(level: level, "request", metadata: metadata)
    }

    private func requestID(_ request: Request, _ context: Context) -> String {
        if !trustedProxies.isEmpty, let peer = context.peerAddress, trustedProxies.contains(where: { $0.contains(peer) }),
            let given = request.headers[.xRequestID], Self.isWellFormed(given)
        {
            return given
        }
        return Self.ids.next()
    }

    private static let ids = UniqueIDs()

    /// Letters, digits, `-`, `_`, `.`, `:`; at most 128: nothing that could break a log line or a header.
    static func isWellFormed(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || [0x2D, 0x5F, 0x2E, 0x3A].contains(byte)
            }
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-Id")!
}
