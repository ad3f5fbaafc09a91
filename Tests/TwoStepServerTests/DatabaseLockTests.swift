import ChildProcessSupport
import Foundation
import Logging
import Testing
import TwoStepStore
import TwoStepTestSupport

/// Another process opening and closing a connection beside the server (`twostep backup` does) must
/// find the server's locks. The checkpointer syncs the file through a descriptor of its own, and
/// closing any descriptor of a file drops every POSIX lock the process holds on it: had it closed
/// one after a sync, the other process's close would have taken the file for the last connection's,
/// copied and deleted the log under the server, whose later writes then went to a deleted file.
@Suite("SQLite locks beside another process")
struct DatabaseLockTests {
    @Test func anotherProcessClosingItsConnectionLeavesTheServersLog() async throws {
        // Any Python 3 has sqlite3 (CI installs python3; TWOSTEP_PYTHON is the project's own).
        let python = ProcessInfo.processInfo.environment["TWOSTEP_PYTHON"] ?? "/usr/bin/python3"
        try #require(FileManager.default.isExecutableFile(atPath: python), "no Python at \(python) to open the second connection")
        try await TestDatabase.withSQLiteFile { path, database in
            let store = SQLStore(database: database)
            let user = try await store.createUser(email: "locks@example.com", passwordHash: "h", at: 1)
            for index in 0..<50 { try await store.recordEvent(userID: user.id, kind: .signedIn, detail: "\(index)", at: 1) }
            // Four rounds of the checkpointer, each copying the log and syncing the file.
            try await Task.sleep(for: .seconds(1))
            for index in 50..<100 { try await store.recordEvent(userID: user.id, kind: .signedIn, detail: "\(index)", at: 1) }

            let script =
                "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nprint(c.execute('SELECT COUNT(*) FROM security_events').fetchone()[0])\nc.close()"
            let other = try await ChildProcess.run(python, ["-c", script, path])
            #expect(other.status == 0, "\(other.stderr)")
            #expect(other.text.trimmingCharacters(in: .whitespacesAndNewlines) == "100")
            #expect(FileManager.default.fileExists(atPath: path + "-wal"), "the other process deleted the server's log")

            for index in 100..<110 { try await store.recordEvent(userID: user.id, kind: .signedIn, detail: "\(index)", at: 1) }
            try await database.close()
            let reopened = try await Database.open(url: "sqlite:" + path, logger: Logger(label: "test"))
            #expect(
                try await SQLStore(database: reopened).events(userID: user.id, limit: 1_000).count == 110,
                "writes after the other process's close were lost"
            )
            try await reopened.close()
        }
    }
}
