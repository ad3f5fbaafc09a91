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
        let unlocked = try OTPCommandTests.run(["user", "unlock", "--email", "ops@example.com", "--operator", "helpdesk-bob"] + data)
        #expect(unlocked.status == 0 && unlocked.stdout.contains("unlocked ops@example.com"), "\(unlocked.stderr)")
        let unknown = try OTPCommandTests.run(["user", "reset-2fa", "--email", "nobody@example.com"] + data)
        #expect(unknown.status == 2 && unknown.stderr.contains("no account"))

        let rotated = try OTPCommandTests.run(["keys", "rotate"] + data)
        #expect(rotated.status == 0 && rotated.stdout.contains("re-sealed 0 secrets"), "\(rotated.stderr)")
        let keys = try String(contentsOfFile: keyPath, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(keys.count == 2 && key.contains(String(keys[1])), "the old key is kept, after the new one")
        #expect(try OTPCommandTests.run(["keys", "rotate", "--drop-retired"] + data).status == 0)
        #expect(try String(contentsOfFile: keyPath, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }.count == 1)
    }

    @Test func importAndAPIKeys() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = ["--data-dir", directory]

        // A bad line stops the import there, naming it; what came before is in, and running the
        // fixed file again adds the rest and skips those.
        let csv = """
            # exported from the old system
            Ann@Example.com, GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
            bo@example.com,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,sha256,8,60

            cy@example.com,not-base32
            di@example.com,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
            """
        let bad = try OTPCommandTests.run(["user", "import", "-"] + data, input: csv)
        #expect(bad.status == 2 && bad.stderr.contains("line 5: secret must be base32") && bad.stderr.contains("2 users added"), "\(bad.stderr)")
        let fixed = try OTPCommandTests.run(
            ["user", "import", "-"] + data,
            input: csv.replacingOccurrences(of: "not-base32", with: "JBSWY3DPEHPK3PXP")
        )
        #expect(fixed.status == 0 && fixed.stdout.contains("added 2 users") && fixed.stdout.contains("skipped 2"), "\(fixed.stdout) \(fixed.stderr)")
        let list = try OTPCommandTests.run(["user", "list"] + data)
        #expect(list.stdout.contains("ann@example.com\ton") && list.stdout.contains("di@example.com\ton"))
        for line in ["x@example.com", "x@example.com,JBSWY3DPEHPK3PXP,md5", "x@example.com,JBSWY3DPEHPK3PXP,sha1,9", "nobody,JBSWY3DPEHPK3PXP"] {
            let refused = try OTPCommandTests.run(["user", "import", "-"] + data, input: line)
            #expect(refused.status == 2 && refused.stderr.contains("line 1:"), "\(line): \(refused.stderr)")
        }

        let created = try OTPCommandTests.run(["apikey", "create", "--name", "vpn-gateway"] + data)
        let key = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(created.status == 0 && key.hasPrefix("tsk_") && key.count == 47)
        #expect(try OTPCommandTests.run(["apikey", "create", "--name", "vpn-gateway"] + data).stderr.contains("already exists"))
        #expect(try OTPCommandTests.run(["apikey", "create", "--name", "bad name!"] + data).status == 2)
        let keys = try OTPCommandTests.run(["apikey", "list"] + data)
        #expect(keys.stdout.contains("vpn-gateway") && keys.stdout.contains("live") && !keys.stdout.contains(key), "a key is shown once only")
        #expect(try OTPCommandTests.run(["apikey", "revoke", "vpn-gateway"] + data).status == 0)
        #expect(try OTPCommandTests.run(["apikey", "list"] + data).stdout.contains("revoked"))
        #expect(try OTPCommandTests.run(["apikey", "revoke", "vpn-gateway"] + data).status == 2)
        let database = try String(decoding: Data(contentsOf: URL(fileURLWithPath: directory + "/twostep.sqlite")), as: UTF8.self)
        #expect(!database.contains(key) && !database.contains(String(key.dropFirst(4))), "only the key's hash is stored")
    }

    /// `apikey create --scope --reach`, `apikey link`, and where each account came from in `user list`.
    @Test func apiKeyScopesReachAndLinks() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twostep-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = ["--data-dir", directory]

        let plain = try OTPCommandTests.run(["apikey", "create", "--name", "portal"] + data)
        #expect(plain.status == 0, "\(plain.stderr)")
        let scoped = try OTPCommandTests.run(["apikey", "create", "--name", "checker", "--scope", "validate", "--reach", "all"] + data)
        #expect(scoped.status == 0, "\(scoped.stderr)")
        let keys = try OTPCommandTests.run(["apikey", "list"] + data).stdout
        #expect(keys.contains("portal") && keys.contains("validate,users,enrol,recovery-codes\town"), "the defaults: \(keys)")
        #expect(keys.contains("checker") && keys.contains("validate\tall"), "\(keys)")
        // Repeated, the scopes add up, as comma-separated ones do; the last alone once won.
        let repeated = ["--scope", "validate", "--scope", "users,audit"]
        #expect(try OTPCommandTests.run(["apikey", "create", "--name", "both"] + repeated + data).status == 0)
        let both = try #require(try OTPCommandTests.run(["apikey", "list"] + data).stdout.split(separator: "\n").first { $0.hasPrefix("both\t") })
        #expect(both.hasSuffix("\tvalidate,users,audit\town"), "\(both)")
        #expect(try OTPCommandTests.run(["apikey", "create", "--name", "x", "--scope", "everything"] + data).stderr.contains("scopes are"))
        #expect(try OTPCommandTests.run(["apikey", "create", "--name", "y", "--reach", "some"] + data).status == 2)

        #expect(try OTPCommandTests.run(["user", "add", "--email", "ann@example.com"] + data, input: "a long operator password\n").status == 0)
        #expect(try OTPCommandTests.run(["user", "import", "-"] + data, input: "bo@example.com,JBSWY3DPEHPK3PXP").status == 0)
        let list = try OTPCommandTests.run(["user", "list"] + data).stdout
        #expect(list.contains("ann@example.com\toff\t0\toperator") && list.contains("bo@example.com\ton\t0\timport"), "\(list)")

        let linked = try OTPCommandTests.run(["apikey", "link", "--name", "portal", "--user", "ann@example.com"] + data)
        #expect(linked.status == 0 && linked.stdout.contains("linked ann@example.com to the key portal"), "\(linked.stderr)")
        #expect(try OTPCommandTests.run(["apikey", "link", "--name", "portal", "--user", "nobody@example.com"] + data).status == 2)
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
