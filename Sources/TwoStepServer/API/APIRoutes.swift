import HTTPTypes
import Hummingbird
import Synchronization

/// The API's routes as they are registered, so a test can hold them against the OpenAPI document.
public final class APIRouteList: Sendable {
    public init() {}

    private let routes = Mutex<[String]>([])

    /// `"POST /api/v1/validate"`, with path parameters in OpenAPI's `{name}` form.
    public var all: [String] { routes.withLock { $0 } }

    /// The methods of the routes whose template matches `path` (`{name}` matches one segment).
    func methods(forPath path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return all.compactMap { route in
            let parts = route.split(separator: " ", maxSplits: 1)
            let template = parts[1].split(separator: "/", omittingEmptySubsequences: false)
            guard template.count == segments.count,
                zip(template, segments).allSatisfy({ $0.hasPrefix("{") || $0 == $1 })
            else { return nil }
            return String(parts[0])
        }
    }

    fileprivate func record(_ method: HTTPRequest.Method, _ path: String) {
        let openAPIPath = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        routes.withLock { $0.append("\(method.rawValue) \(openAPIPath)") }
    }
}

/// A group of API routes under `prefix` that records each one it adds.
struct APIRoutes<Context: RequestContext> {
    let group: RouterGroup<Context>
    let prefix: String
    let list: APIRouteList

    func on(_ method: HTTPRequest.Method, _ path: String, use handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        group.on(RouterPath(path), method: method, use: handler)
        list.record(method, prefix + path)
    }
}
