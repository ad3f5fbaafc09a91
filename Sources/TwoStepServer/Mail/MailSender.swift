import Foundation
import Logging
import Synchronization

/// Hands messages to the transport, now or in the background, and logs failures without the
/// message (it holds links). Background sends are tracked, so a test, or a server shutting down,
/// can wait for them.
final class MailSender: Sendable {
    let transport: any MailTransport
    let logger: Logger
    private let running = Mutex<[UUID: Task<Void, Never>]>([:])

    init(transport: any MailTransport, logger: Logger) {
        self.transport = transport
        self.logger = logger
    }

    /// Sends now.
    /// - Returns: `nil` when the transport took it, else why not (for the person who asked).
    func send(_ message: MailMessage) async -> MailTransportError? {
        do {
            try await transport.send(message)
            return nil
        } catch {
            logger.error("mail not sent", metadata: ["reason": "\(error.description)", "purpose": "\(message.purpose.rawValue)"])
            return error
        }
    }

    /// Sends without making the request wait; `completion` learns whether it went.
    func sendInBackground(_ message: MailMessage, completion: @escaping @Sendable (MailTransportError?) async -> Void = { _ in }) {
        let id = UUID()
        running.withLock { running in
            running[id] = Task {
                let error = await self.send(message)
                await completion(error)
                _ = self.running.withLock { $0.removeValue(forKey: id) }
            }
        }
    }

    /// Waits until every background send started so far has finished.
    func idle() async {
        while true {
            let tasks = running.withLock { Array($0.values) }
            if tasks.isEmpty { return }
            for task in tasks { await task.value }
        }
    }
}
