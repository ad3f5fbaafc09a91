import Foundation
import Testing

/// Issue 16: operators' actions land in the audit trail with the operator's name, and
/// `twostep audit` finds them.
@Suite("twostep audit")
struct AuditCommandTests {
    @Test func anOperatorsResetIsFoundWithItsActor() async throws {
        let directory = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = ["--data-dir", directory]
        #expect(
            try await OTPCommandTests.runDetached(["user", "add", "--email", "ann@example.com"] + data, input: "a long operator password\n").status
                == 0
        )
        #expect(
            try await OTPCommandTests.runDetached(["user", "reset-2fa", "--email", "ann@example.com", "--operator", "helpdesk-bob"] + data).status
                == 0
        )
        #expect(try await OTPCommandTests.runDetached(["apikey", "create", "--name", "vpn"] + data).status == 0)
        #expect(try await OTPCommandTests.runDetached(["apikey", "revoke", "vpn"] + data).status == 0)
        #expect(try await OTPCommandTests.runDetached(["keys", "rotate"] + data).status == 0)

        let json = try await OTPCommandTests.runDetached(["audit", "--json", "--since", "24h"] + data)
        #expect(json.status == 0, "\(json.stderr)")
        let events = json.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.count == json.stdout.split(separator: "\n").count, "one JSON object per line")
        #expect(events.map { $0["kind"] as? String } == ["master_key_rotated", "api_key_revoked", "api_key_created", "operator_reset", "signed_up"])
        let reset = try #require(events.first { $0["kind"] as? String == "operator_reset" })
        #expect(reset["actor"] as? [String: String] == ["kind": "operator", "name": "helpdesk-bob"])
        #expect((reset["user"] as? [String: Any])?["email"] as? String == "ann@example.com" && reset["outcome"] as? String == "success")
        let login = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"]
        let created = try #require(events.first { $0["kind"] as? String == "api_key_created" })
        #expect((created["actor"] as? [String: String])?["kind"] == "operator" && created["user"] == nil)
        if let login { #expect((created["actor"] as? [String: String])?["name"] == login, "the login name by default") }

        let table = try await OTPCommandTests.runDetached(["audit", "--user", "ann@example.com"] + data)
        #expect(table.status == 0 && table.stdout.contains("operator_reset\tsuccess\toperator helpdesk-bob\tann@example.com"), "\(table.stdout)")
        #expect(!table.stdout.contains("api_key_created"), "only that account's events")
        #expect(try await OTPCommandTests.runDetached(["audit", "--user", "nobody@example.com"] + data).status == 2)
        #expect(try await OTPCommandTests.runDetached(["audit", "--since", "yesterday"] + data).status == 2)

        let pruned = try await OTPCommandTests.runDetached(["audit", "prune", "--older-than", "400d"] + data)
        #expect(pruned.status == 0 && pruned.stdout.contains("deleted 0 events older than 400 days"), "\(pruned.stdout) \(pruned.stderr)")
        #expect(
            try await OTPCommandTests.runDetached(["audit", "prune", "--older-than", "1d"] + data).status == 2,
            "a day would empty the activity lists"
        )
    }
}
