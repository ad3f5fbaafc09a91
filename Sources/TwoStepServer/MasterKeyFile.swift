import Foundation
public import TwoStepCore

/// The master keys that seal secrets at rest, in a file readable by the server's user only.
///
/// One key per line, `<id> <base64 key>`, the active key first; older keys follow so values sealed
/// before a rotation still open. The file is created with mode 0600 on first start and reused.
public enum MasterKeyFile {
    /// Loads the key ring, creating the file with a new key if there is none.
    public static func loadOrCreate(at path: String) throws -> KeyRing {
        if !FileManager.default.fileExists(atPath: path) {
            try write([SealingKey.generate()], to: path)
        }
        return try load(at: path)
    }

    public static func load(at path: String) throws -> KeyRing {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        if let permissions = attributes[.posixPermissions] as? Int, permissions & 0o077 != 0 {
            throw MasterKeyError("\(path) is readable by other users (mode \(String(permissions, radix: 8))); run chmod 600 on it")
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var keys: [SealingKey] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") && !line.isEmpty {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let raw = Data(base64Encoded: String(fields[1])) else {
                throw MasterKeyError("\(path) has a malformed line; expected '<id> <base64 key>'")
            }
            do { keys.append(try SealingKey(id: String(fields[0]), rawKey: raw)) } catch {
                throw MasterKeyError("\(path): \(error)")
            }
        }
        guard let active = keys.first else { throw MasterKeyError("\(path) holds no key") }
        return KeyRing(active: active, retired: Array(keys.dropFirst()))
    }

    /// Writes keys (the first is active) atomically with mode 0600.
    public static func write(_ keys: [SealingKey], to path: String) throws {
        let text =
            "# TwoStep master keys: the first seals, all open. Keep this file secret and backed up.\n"
            + keys.map { "\($0.id) \(Data($0.rawKey).base64EncodedString())\n" }.joined()
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw MasterKeyError("cannot write \(temporary)")
        }
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }
}

public struct MasterKeyError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
