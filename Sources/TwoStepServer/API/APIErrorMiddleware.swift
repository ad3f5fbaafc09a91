import Hummingbird
import Logging

/// Under `/api/`, every error leaves as the JSON error body: Hummingbird's own (404 no such route,
/// 405, 413 too large), and any unexpected one as a 500 that says nothing of its cause — the cause's
/// type goes to the log.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The API's routes, to tell "no such path" (404) from "not with this method" (405 with `Allow`).
    let routes: APIRouteList

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(forPath: request.uri.path)
            guard !allowed.isEmpty else {
                return try APIError(.notFound, "not_found", "There is no such API route.").response(from: request, context: context)
            }
            var response = try APIError(.methodNotAllowed, "method_not_allowed", "This route takes \(allowed.joined(separator: ", ")).")
                .response(from: request, context: context)
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        } catch let error as any HTTPResponseError {
            let code =
                switch error.status {
                case .contentTooLarge: "body_too_large"
                case .badRequest: "bad_request"
                default: "http_\(error.status.code)"
                }
            let message = (error as? HTTPError)?.body ?? error.status.reasonPhrase
            return try APIError(error.status, code, message).response(from: request, context: context)
        } catch {
            // By type only, as `RequestLogMiddleware` logs it: an error's description may quote a
            // value it was given (SPEC §2, no secrets in logs).
            context.logger.error("API request failed", metadata: ["error_type": .errorType(error)])
            return try APIError(.internalServerError, "internal", "Something went wrong on the server.").response(from: request, context: context)
        }
    }
}
