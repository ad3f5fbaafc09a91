import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TwoStepStore

/// While the database is unreachable (PostgreSQL stopped or restarting, the network cut), every
/// request that needs it answers 503 Service Unavailable with `Retry-After`, a JSON error on the
/// API and a page on the web, instead of a 500 that reads like a bug. Nothing is cached or
/// half-done: each rule is one statement, which either ran or did not. When the database returns,
/// the pool reconnects and requests succeed again without a restart.
struct DatabaseOutageMiddleware<Context: RequestContext>: RouterMiddleware {
    static var retryAfterSeconds: Int { 5 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as DatabaseError where error.isUnavailable {
            // The route template, not the path: a path can hold an account's address (OWASP Logging Cheat Sheet).
            context.logger.warning("database unavailable", metadata: ["route": "\(context.endpointPath ?? "unmatched")"])
            if request.uri.path.hasPrefix("/api/") {
                let now = Date()
                throw APIError(
                    .serviceUnavailable,
                    "database_unavailable",
                    "The server cannot reach its database right now. Try again in a few seconds.",
                    retryAt: now.addingTimeInterval(TimeInterval(Self.retryAfterSeconds)),
                    now: now
                )
            }
            return DatabaseOutagePage.response(retryAfterSeconds: Self.retryAfterSeconds)
        }
    }
}

/// The web's answer while the database is unreachable.
enum DatabaseOutagePage {
    static func response(retryAfterSeconds: Int) -> Response {
        Response(
            status: .serviceUnavailable,
            headers: [.contentType: "text/html; charset=utf-8", .retryAfter: String(retryAfterSeconds)],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    static let html = """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Temporarily unavailable · TwoStep</title><link rel="stylesheet" href="/static/app.css"></head>
        <body><main>
        <h1>Temporarily unavailable</h1>
        <p class="error" role="alert">TwoStep cannot reach its database right now. Nothing you did caused this.</p>
        <p>Wait a few seconds, then <a href="">try again</a>.</p>
        </main></body>
        </html>
        """
}
