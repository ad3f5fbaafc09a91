import Foundation
public import Logging
import Synchronization
import TwoStepStore

/// `--log-format json`: one JSON object per line — `time` (ISO 8601, UTC, milliseconds), `level`,
/// `message`, `label`, the metadata as strings, and the request's `request_id` and `user_id` when
/// the line is logged while a request is served — for log collectors that read JSON.
///
/// It writes what it is given; keeping secrets out is the callers' rule (SPEC §2, OWASP Logging
/// Cheat Sheet "Data to exclude"), which `logsHoldNoSecrets` checks on every line of a session.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let write: @Sendable (String) -> Void

    /// - Parameter write: Receives each line (with its newline); standard error by default.
    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { object[key] = "\(value)" }
        if let trace = RequestOrigin.trace {
            object["request_id"] = object["request_id"] ?? trace.requestID
            if let user = trace.userID { object["user_id"] = object["user_id"] ?? String(user) }
        }
        object["time"] = Self.timestamp()
        object["level"] = event.level.rawValue
        object["message"] = "\(event.message)"
        object["label"] = label
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        write(String(decoding: data, as: UTF8.self) + "\n")
    }

    private static func timestamp() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Whole lines to standard error, one `write` each, so lines from several threads never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    private static let lock = Mutex(())
}
