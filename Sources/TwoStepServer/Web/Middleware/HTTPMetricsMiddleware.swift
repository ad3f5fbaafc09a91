import HTTPTypes
import Hummingbird

/// Counts every answer by route template, method and status, and times sign-in and validate
/// (issue 16). Counted before the answer is written, so a scrape right after a response sees it.
///
/// The route is the matched template (`/api/v1/users/{user}`), never the path a client sent: a
/// path holds account names and is unbounded (OWASP Logging Cheat Sheet, "Data to exclude").
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let status: Int
        do {
            let response = try await next(request, context)
            status = response.status.code
            record(request, context, status: status, started: started)
            return response
        } catch {
            status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context, status: status, started: started)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, started: ContinuousClock.Instant) {
        // Hummingbird names a request no route matched "NotFound".
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        let method = knownMethods.contains(request.method) ? request.method.rawValue : "other"
        metrics.httpRequest(route: route, method: method, status: status)
        guard request.method == .post else { return }
        switch route {
        case "/api/v1/validate": metrics.requestDuration(.validate, ContinuousClock.now - started)
        case "/signin", "/signin/code", "/api/v1/session", "/api/v1/session/second-factor":
            metrics.requestDuration(.signIn, ContinuousClock.now - started)
        default: break
        }
    }
}

/// The methods counted by name; anything else a client invents is `other`.
private let knownMethods: Set<HTTPRequest.Method> = [.get, .head, .post, .put, .patch, .delete, .options]
