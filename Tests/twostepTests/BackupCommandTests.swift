import Foundation
import Synchronization
import Testing
import TwoStepCore

/// Issue 16: `twostep backup` under write load, `twostep restore` with the server stopped, and the
/// restored database signs people in.
@Suite("twostep backup and restore")
struct BackupCommandTests {
    @Test func aBackupTakenUnderWriteLoadRestoresAndSignsIn() async throws {
        let directory = temporaryDataDirectory()
        let backup = directory + "-backup.sqlite"
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: backup)
        }
        let data = ["--data-dir", directory]
        let key = try await OTPCommandTests.runDetached(["apikey", "create", "--name", "load", "--reach", "all"] + data).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var server = try await ServeProcess.start(directory: directory, ["--drain-seconds", "0"])
        defer { server.discard() }
        let bearer = ["Authorization": "Bearer \(key)"]
        let password = "a long enough password"
        #expect(try await server.request("POST", "/api/v1/account", json: ["email": "kept@example.com", "password": password]).status == 201)
        let secret = Base32.encode(Array(repeating: 9, count: 20))
        #expect(
            try await server.request("POST", "/api/v1/users", json: ["email": "app@example.com", "totp": ["secret": secret]], headers: bearer).status
                == 201
        )

        // Four writers create accounts until told to stop; each acknowledgement is timed.
        let stop = StopFlag()
        let port = server.port
        let load = try await withThrowingTaskGroup(of: [(String, Date)].self) { group in
            for worker in 0..<4 {
                group.addTask { [server] in
                    var acknowledged: [(String, Date)] = []
                    var n = 0
                    while !stop.value.load(ordering: .relaxed) {
                        n += 1
                        let email = "load\(worker)-\(n)@example.com"
                        let answer = try await server.request(
                            "POST",
                            "/api/v1/users",
                            json: ["email": email, "totp": ["secret": secret]],
                            headers: bearer,
                            port: port
                        )
                        if answer.status == 201 {
                            acknowledged.append((email, Date()))
                            stop.written.add(1, ordering: .relaxed)
                        }
                    }
                    return acknowledged
                }
            }
            // A few writes first (however loaded the machine), then the backup while they go on.
            let deadline = Date().addingTimeInterval(30)
            while stop.written.load(ordering: .relaxed) < 5 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            let started = Date()
            let made = try await OTPCommandTests.runDetached(["backup", backup] + data)
            #expect(made.status == 0, "\(made.stderr)")
            #expect(made.stdout.contains("master key is not in it"), "\(made.stdout)")
            try await Task.sleep(for: .milliseconds(500))
            stop.value.store(true, ordering: .relaxed)
            var all: [(String, Date)] = []
            for try await part in group { all += part }
            return (all, started)
        }
        let (acknowledged, backupStarted) = load
        let before = acknowledged.filter { $0.1 < backupStarted }.map(\.0)
        let after = acknowledged.count - before.count
        #expect(before.count >= 5 && after >= 1, "the load ran through the backup: \(before.count) writes before it, \(after) after it began")
        let mode = try FileManager.default.attributesOfItem(atPath: backup)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o777 } == 0o600, "the backup holds password hashes: owner only")

        let refused = try await OTPCommandTests.runDetached(["restore", backup] + data)
        #expect(refused.status == 2 && refused.stderr.contains("stop it first"), "\(refused.stderr)")
        await server.stop()
        server.discard()

        // Writes after the backup are in the database being replaced, which is kept.
        let restored = try await OTPCommandTests.runDetached(["restore", backup] + data)
        #expect(restored.status == 0 && restored.stdout.contains("restored"), "\(restored.stdout) \(restored.stderr)")
        #expect(restored.stdout.contains(".before-restore-"))

        server = try await ServeProcess.start(directory: directory, ["--drain-seconds", "0"])
        let signIn = try await server.request("POST", "/api/v1/session", json: ["email": "kept@example.com", "password": password])
        #expect(signIn.status == 200 && signIn.json?["token"] is String, "\(signIn.status) \(signIn.text)")
        let code = try TOTP(secret: try Base32.decode(secret)).code(at: Date())
        let valid = try await server.request("POST", "/api/v1/validate", json: ["user": "app@example.com", "code": code], headers: bearer)
        #expect(valid.json?["valid"] as? Bool == true, "\(valid.text)")
        var missing: [String] = []
        for email in before where try await server.request("GET", "/api/v1/users/\(email)", headers: bearer).status != 200 { missing.append(email) }
        #expect(missing.isEmpty, "\(missing.count) of \(before.count) accounts acknowledged before the backup are missing: \(missing.prefix(5))")
        let audit = try await OTPCommandTests.runDetached(["audit", "--json"] + data)
        #expect(audit.stdout.contains("\"kind\":\"database_restored\""), "the restore is in the audit trail")
    }
}

/// Tells the load's writers to stop.
private final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
    /// Writes acknowledged so far.
    let written = Atomic<Int>(0)
}
