public import Foundation

/// The development gateway: each message is appended as one JSON line to a file (by default
/// `twostep-data/sms-outbox.jsonl`), where a developer or a test reads the code. Nothing is sent.
public actor OutboxGateway: SMSGateway {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public func send(_ message: SMSMessage) async throws(SMSGatewayError) {
        do {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            var line = try encoder.encode(OutboxEntry(message: message, sentAt: Date()))
            line.append(UInt8(ascii: "\n"))
            if !FileManager.default.fileExists(atPath: path) {
                // Codes are secrets even in development: readable by the server's user only.
                guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw SMSGatewayError(.unavailable, "cannot create the outbox \(path)")
                }
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
        } catch let error as SMSGatewayError {
            throw error
        } catch {
            throw SMSGatewayError(.unavailable, "cannot write the outbox \(path): \(error)")
        }
    }

    /// The messages written so far, oldest first.
    public func messages() throws -> [OutboxEntry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(OutboxEntry.self, from: Data($0)) }
    }
}

public struct OutboxEntry: Sendable, Codable, Equatable {
    public var message: SMSMessage
    public var sentAt: Date
}
