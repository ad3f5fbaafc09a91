import Hummingbird

extension Request {
    /// The form body as `T`. A body that does not fit (a field given twice, bad encoding) is the
    /// client's mistake: 400, not 500.
    func decodeForm<T: Decodable>(as type: T.Type, context: some RequestContext) async throws -> T {
        do {
            return try await URLEncodedFormDecoder().decode(type, from: self, context: context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            throw HTTPError(.badRequest, message: "The form could not be read. Go back, reload the page and try again.")
        }
    }
}
