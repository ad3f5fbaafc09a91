import Hummingbird
import Mustache
import NIOCore

/// Renders the Mustache templates in `Templates/` (compiled into the binary, so one file deploys).
struct Pages: Sendable {
    private let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        for (name, text) in Templates.all {
            try library.register(text, named: name)
        }
        self.library = library
    }

    /// An HTML response from a template. `values` are HTML-escaped by Mustache unless a template
    /// uses triple braces (only for markup we generate, such as the QR code's SVG).
    func render(_ name: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(values, withTemplate: name) ?? "template \(name) is missing"
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }
}
