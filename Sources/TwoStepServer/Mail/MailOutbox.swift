public import Foundation

/// The development transport: each message is appended as one JSON line to a file (by default
/// `twostep-data/mail-outbox.jsonl`), where a developer or a test reads the link. Nothing is sent.
public actor MailOutbox: MailTransport {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public func send(_ message: MailMessage) async throws(MailTransportError) {
        do {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            var line = try encoder.encode(MailOutboxEntry(message: message, sentAt: Date()))
            line.append(UInt8(ascii: "\n"))
            if !FileManager.default.fileExists(atPath: path) {
                // Reset and verification links are secrets even in development: the server's user only.
                guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw MailTransportError(.unavailable, "cannot create the mail outbox \(path)")
                }
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
        } catch let error as MailTransportError {
            throw error
        } catch {
            throw MailTransportError(.unavailable, "cannot write the mail outbox \(path): \(error)")
        }
    }

    /// The messages written so far, oldest first.
    public func messages() throws -> [MailOutboxEntry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(MailOutboxEntry.self, from: Data($0)) }
    }
}

public struct MailOutboxEntry: Sendable, Codable, Equatable {
    public var message: MailMessage
    public var sentAt: Date
}
