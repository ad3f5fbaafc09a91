import Foundation
public import Logging
import Synchronization
import TwoStepStore

/// `--log-format text` (the default): `time level label: key=value … [module] message`, the
/// layout of swift-log's `StreamLogHandler`, with the request's `request_id` and `user_id` when
/// the line is logged while a request is served.
///
/// `StreamLogHandler` formats its metadata again at every change, and Hummingbird gives every
/// request's logger its own id: a cost on every request (issue 19), though nothing is logged
/// under `--log-level warning`. This one formats a line only when it writes it.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let write: @Sendable (String) -> Void

    /// - Parameter write: Receives each line (with its newline); standard error by default.
    public init(label: String, write: @escaping @Sendable (String) -> Void = LogLines.standardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let fields = LogLines.fields(metadata, event).sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        write("\(LogLines.timestamp()) \(event.level)\(label.isEmpty ? "" : " ")\(label):\(fields) [\(event.source)] \(event.message)\n")
    }
}

/// `--log-format json`: one JSON object per line — `time` (ISO 8601, UTC, milliseconds), `level`,
/// `message`, `label`, the metadata as strings, and the request's `request_id` and `user_id` when
/// the line is logged while a request is served — for log collectors that read JSON.
///
/// Both handlers write what they are given; keeping secrets out is the callers' rule (SPEC §2,
/// OWASP Logging Cheat Sheet "Data to exclude"), which `logsHoldNoSecrets` checks on every line of
/// a session.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let write: @Sendable (String) -> Void

    /// - Parameter write: Receives each line (with its newline); standard error by default.
    public init(label: String, write: @escaping @Sendable (String) -> Void = LogLines.standardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object = LogLines.fields(metadata, event)
        object["time"] = LogLines.timestamp()
        object["level"] = event.level.rawValue
        object["message"] = "\(event.message)"
        object["label"] = label
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        write(String(decoding: data, as: UTF8.self) + "\n")
    }
}

/// What the two handlers share.
public enum LogLines {
    /// The handler's metadata, then the line's, then the request's id and account where neither
    /// names them. An error given to the line is named by its type only, never its description,
    /// which may quote a value (OWASP Logging Cheat Sheet, "Data to exclude").
    static func fields(_ metadata: Logger.Metadata, _ event: LogEvent) -> [String: String] {
        var fields: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { fields[key] = "\(value)" }
        if let error = event.error { fields["error_type"] = fields["error_type"] ?? String(reflecting: type(of: error)) }
        if let trace = RequestOrigin.trace {
            fields["request_id"] = fields["request_id"] ?? trace.requestID
            if let user = trace.userID { fields["user_id"] = fields["user_id"] ?? String(user) }
        }
        return fields
    }

    static func timestamp() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Whole lines to standard error, one `write` each, so lines from several threads never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    private static let lock = Mutex(())
}
