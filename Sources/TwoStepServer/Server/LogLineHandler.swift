import Foundation
public import Logging
import Synchronization
import TwoStepStore

/// Every log line of the server, in one of two formats:
/// - `--log-format text` (the default): `time level label: key=value … [module] message`, the
///   layout of swift-log's `StreamLogHandler`;
/// - `--log-format json`: one JSON object per line, with `time`, `level`, `message`, `label` and
///   the metadata as strings, for log collectors that read JSON.
///
/// Both name the request a line is logged in (`request_id`, and `user_id` once known) from its
/// trace, so a request's logger is not changed to carry them. `StreamLogHandler` formats its
/// metadata again at every change, and Hummingbird gives every request's logger its own id: a cost
/// on every request, though nothing is logged under `--log-level warning` (issue 19). This
/// handler formats a line only when it writes it. The time is ISO 8601, UTC, with milliseconds.
///
/// It writes what it is given; keeping secrets out is the callers' rule (SPEC §2, OWASP Logging
/// Cheat Sheet "Data to exclude"), which `logsHoldNoSecrets` checks on every line of a session.
public struct LogLineHandler: LogHandler {
    public enum Format: Sendable { case text, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let format: Format
    private let write: @Sendable (String) -> Void

    /// - Parameter write: Receives each line (with its newline); standard error by default.
    public init(label: String, format: Format, write: @escaping @Sendable (String) -> Void = LogLineHandler.standardError) {
        self.label = label
        self.format = format
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = self.fields(event)
        let time = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        switch format {
        case .text:
            let pairs = fields.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            write("\(time) \(event.level)\(label.isEmpty ? "" : " ")\(label):\(pairs) [\(event.source)] \(event.message)\n")
        case .json:
            fields["time"] = time
            fields["level"] = event.level.rawValue
            fields["message"] = "\(event.message)"
            fields["label"] = label
            guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
            write(String(decoding: data, as: UTF8.self) + "\n")
        }
    }

    /// The handler's metadata, then the line's, then the request's id and account where neither
    /// names them. An error given to the line is named by its type only, never its description,
    /// which may quote a value (OWASP Logging Cheat Sheet, "Data to exclude").
    private func fields(_ event: LogEvent) -> [String: String] {
        var fields: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { fields[key] = "\(value)" }
        if let error = event.error { fields["error_type"] = fields["error_type"] ?? "\(Logger.MetadataValue.errorType(error))" }
        if let trace = RequestOrigin.trace {
            fields["request_id"] = fields["request_id"] ?? trace.requestID
            if let user = trace.userID { fields["user_id"] = fields["user_id"] ?? String(user) }
        }
        return fields
    }

    /// Whole lines to standard error, one `write` each, so lines from several threads never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    private static let lock = Mutex(())
}

extension Logger.MetadataValue {
    /// An error as every log line names it: by its type, never its description, which may quote a
    /// value it was given (SPEC §2; OWASP Logging Cheat Sheet, "Data to exclude").
    static func errorType(_ error: any Error) -> Self { .string(String(reflecting: type(of: error))) }
}
