import Foundation
import Hummingbird

extension Request {
    /// The JSON body as `T`: 413 when too large, 400 when it is not JSON (or not UTF-8), 422 naming
    /// the field when a value has the wrong type or a required one is missing. Unknown fields are ignored.
    func decodeJSON<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        var request = self
        return try Self.decode(type, from: try await request.collectBody(upTo: context.maxUploadSize))
    }

    /// The same, reading the plainest bodies (`FlatJSON`) without `JSONDecoder`.
    func decodeJSON<T: FlatJSONDecodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        var request = self
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        if let strings = FlatJSON.strings(T.fields, in: body.readableBytesView) { return T(strings: strings) }
        return try Self.decode(type, from: body)
    }

    private static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws -> T {
        if let key = JSONDuplicateKeys.first(in: body.readableBytesView) {
            throw APIError(.badRequest, "duplicate_key", "The key \"\(key)\" appears twice in one object; send each key once.")
        }
        do {
            return try API.decoder.decode(type, from: Data(body.readableBytesView))
        } catch let error as DecodingError {
            switch error {
            case .typeMismatch(_, let where_) where where_.codingPath.isEmpty, .valueNotFound(_, let where_) where where_.codingPath.isEmpty:
                throw APIError(.badRequest, "malformed_json", "The body must be a JSON object.")
            case .typeMismatch(_, let where_), .valueNotFound(_, let where_):
                throw APIError.invalidField(Self.path(where_.codingPath), "has the wrong type or is null")
            case .keyNotFound(let key, let where_):
                throw APIError.invalidField(Self.path(where_.codingPath + [key]), "is required")
            case .dataCorrupted(let where_) where !where_.codingPath.isEmpty:
                throw APIError.invalidField(Self.path(where_.codingPath), "is not valid")
            default:
                throw APIError(.badRequest, "malformed_json", "The body must be a JSON object in UTF-8.")
            }
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue.snakeCased }.joined(separator: ".")
    }
}

extension String {
    /// `trustDevice` → `trust_device`, the way the API's fields are spelled.
    fileprivate var snakeCased: String {
        var result = ""
        for character in self {
            if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
        }
        return result
    }
}
