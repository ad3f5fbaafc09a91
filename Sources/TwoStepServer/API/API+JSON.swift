import Foundation
import HTTPTypes
import Hummingbird

/// JSON in and out of the API: snake_case keys, ISO 8601 times.
enum API {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        json(encoded: ByteBuffer(bytes: try encoder.encode(value)), status: status)
    }

    /// A body encoded before: an answer that never changes, encoded once.
    static func json(encoded body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
    }

    /// `value` encoded once, for `json(encoded:)`; a value that cannot be encoded is a programming error.
    static func encoded(_ value: some Encodable) -> ByteBuffer {
        ByteBuffer(bytes: try! encoder.encode(value))
    }

    static func noContent() -> Response { Response(status: .noContent) }
}
