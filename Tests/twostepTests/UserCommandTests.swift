import Foundation
import Testing

/// `twostep migrate` and `twostep user …` on a temporary data directory.
@Suite("twostep user and migrate")
struct UserCommandTests {
    @Test func operatorCommands() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = ["--data-dir", directory]

        let migrate = try OTPCommandTests.run(["migrate"] + data)
        #expect(migrate.status == 0 && migrate.stdout.contains("up to date"))
        let keyPath = directory + "/master.key"
        let key = try String(contentsOfFile: keyPath, encoding: .utf8)
        let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the master key is readable by its owner only")
        let folderMode = try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int
        #expect(folderMode == 0o700, "the data folder is closed to other users")
        #expect(FileManager.default.fileExists(atPath: directory + "/twostep.sqlite"))

        let added = try OTPCommandTests.run(["user", "add", "--email", "Ops@Example.com"] + data, input: "a long operator password\n")
        #expect(added.status == 0 && added.stdout.contains("added ops@example.com"), "\(added.stderr)")
        #expect(try String(contentsOfFile: keyPath, encoding: .utf8) == key, "the key is reused, not remade")

        let duplicate = try OTPCommandTests.run(["user", "add", "--email", "ops@example.com"] + data, input: "another password\n")
        #expect(duplicate.status == 2 && duplicate.stderr.contains("already has an account"))
        let noPassword = try OTPCommandTests.run(["user", "add", "--email", "x@example.com"] + data)
        #expect(noPassword.status == 2 && noPassword.stderr.contains("standard input"))

        let list = try OTPCommandTests.run(["user", "list"] + data)
        #expect(list.status == 0 && list.stdout.contains("1\tops@example.com\toff\t0"))

        let reset = try OTPCommandTests.run(["user", "reset-2fa", "--email", "ops@example.com"] + data)
        #expect(reset.status == 0 && reset.stdout.contains("two-factor authentication is off"))
        let unknown = try OTPCommandTests.run(["user", "reset-2fa", "--email", "nobody@example.com"] + data)
        #expect(unknown.status == 2 && unknown.stderr.contains("no account"))

        let rotated = try OTPCommandTests.run(["keys", "rotate"] + data)
        #expect(rotated.status == 0 && rotated.stdout.contains("re-sealed 0 secrets"), "\(rotated.stderr)")
        let keys = try String(contentsOfFile: keyPath, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(keys.count == 2 && key.contains(String(keys[1])), "the old key is kept, after the new one")
        #expect(try OTPCommandTests.run(["keys", "rotate", "--drop-retired"] + data).status == 0)
        #expect(try String(contentsOfFile: keyPath, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }.count == 1)
    }

    @Test func refusesAWorldReadableKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try OTPCommandTests.run(["migrate", "--data-dir", directory]).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + "/master.key")
        let result = try OTPCommandTests.run(["migrate", "--data-dir", directory])
        #expect(result.status == 2 && result.stderr.contains("chmod 600"))
    }
}
