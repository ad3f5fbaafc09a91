public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
            // One write(2) to a file opened with O_APPEND: lines from several senders (the pages,
            // the alert dispatcher) never interleave. Links are secrets even in development: 0600.
            let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o600)
            guard descriptor >= 0 else { throw MailTransportError(.unavailable, "cannot open the mail outbox \(path)") }
            defer { close(descriptor) }
            let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written == line.count else { throw MailTransportError(.unavailable, "cannot write the mail outbox \(path)") }
        } catch let error as MailTransportError {
            throw error
        } catch {
            throw MailTransportError(.unavailable, "cannot write the mail outbox \(path): \(error)")
        }
    }

    /// The messages written so far, oldest first. A read that meets a line still being written
    /// (another process reads while `send` writes) sees it without its newline: it is left for the
    /// next read (seen once in a test run as "not valid JSON").
    public func messages() throws -> [MailOutboxEntry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let complete = data.lastIndex(of: UInt8(ascii: "\n")).map { data[...$0] } ?? Data()
        return try complete.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(MailOutboxEntry.self, from: Data($0)) }
    }
}

public struct MailOutboxEntry: Sendable, Codable, Equatable {
    public var message: MailMessage
    public var sentAt: Date
}
