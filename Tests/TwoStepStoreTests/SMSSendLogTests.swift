import Foundation
import SQLKit
import Testing
import TwoStepStore

/// The append-only SMS send log: every limit is one conditional insert over it (issue 12).
@Suite("SMS send log")
struct SMSSendLogTests {
    static let phone = "+31612345612"

    /// Limits small enough to reach in a test, each with a window of its own.
    static var limits: SMSLimits {
        var limits = SMSLimits()
        limits.cooldown = 60
        limits.perAccountPerHour = 3
        limits.perPhonePerDay = 5
        limits.serverPerHour = 8
        limits.serverPerDay = 12
        return limits
    }

    /// Records a send and checks the outcome (`nil`: recorded).
    static func send(
        _ store: SQLStore,
        user: Int64,
        phone: String = phone,
        at time: UnixTime,
        limits: SMSLimits = limits,
        expect expected: SMSLimit?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let outcome = try await store.recordSMSSend(userID: user, phone: phone, purpose: "sign_in", at: time, limits: limits)
        #expect(outcome == expected, sourceLocation: sourceLocation)
    }

    @Test func eachLimitRefusesWithTheMomentItLifts() async throws {
        try await SQLStoreTests.withStore { store in
            let limits = Self.limits
            try await Self.send(store, user: 1, at: 1_000, expect: nil)
            try await Self.send(store, user: 1, at: 1_030, expect: .cooldown(retryAt: 1_060))
            try await Self.send(store, user: 1, at: 1_061, expect: nil)
            try await Self.send(store, user: 1, at: 1_122, expect: nil)
            try await Self.send(store, user: 1, at: 1_200, expect: .accountHourly(retryAt: 1_000 + 3_600))
            // Another account, same number: the number's day counts both.
            try await Self.send(store, user: 2, at: 1_300, expect: nil)
            try await Self.send(store, user: 2, at: 1_400, expect: nil)
            try await Self.send(store, user: 3, at: 1_500, expect: .phoneDaily(retryAt: 1_000 + 86_400))
            // Other accounts and numbers: the server's hour, then its day.
            for user: Int64 in 10...12 {
                try await Self.send(store, user: user, phone: "+4930\(user)0000", at: 1_600, expect: nil)
            }
            try await Self.send(store, user: 13, phone: "+49301300000", at: 1_700, expect: .serverHourly(retryAt: 1_000 + 3_600))
            for user: Int64 in 20...23 {
                try await Self.send(store, user: user, phone: "+4930\(user)0000", at: 5_000, expect: nil)
            }
            try await Self.send(store, user: 30, phone: "+49303000000", at: 5_100, expect: .serverDaily(retryAt: 1_000 + 86_400))
        }
    }

    /// The attack of issue 12: sends counted over challenges vanished with each restarted enrolment.
    /// Nothing that happens to the account or its factors shortens the log; only age does.
    @Test func onlyAgeShortensTheLog() async throws {
        try await SQLStoreTests.withStore { store in
            let user = try await store.createUser(email: "a@example.com", passwordHash: "h", at: 1)
            try await Self.send(store, user: user.id, at: 100, expect: nil)
            let factor = try await store.createFactor(
                userID: user.id,
                kind: .sms,
                sealedSecret: nil,
                phone: Self.phone,
                algorithm: "",
                digits: 6,
                period: 0,
                at: 100
            )
            _ = try await store.createSMSChallenge(userID: user.id, factorID: factor.id, phone: Self.phone, sealedCode: "c", at: 100, expiresAt: 400)
            try await store.deleteFactors(userID: user.id)
            try await store.deleteSMSChallenges(createdBefore: 1_000)
            try await store.database.writer.raw("DELETE FROM users WHERE id = \(bind: user.id)").run()
            #expect(try await store.smsSendCount(phone: Self.phone, since: 0) == 1)
            try await Self.send(store, user: user.id, at: 130, expect: .cooldown(retryAt: 160))

            try await store.deleteSMSSends(sentBefore: 100)
            #expect(try await store.smsSendCount(phone: Self.phone, since: 0) == 1, "not old enough")
            try await store.deleteSMSSends(sentBefore: 101)
            #expect(try await store.smsSendCount(phone: Self.phone, since: 0) == 0)
        }
    }

    /// A burst of concurrent sends takes exactly what the limits allow: the check and the record are one statement.
    @Test func concurrentSendsCannotExceedALimit() async throws {
        try await SQLStoreTests.withStore { store in
            var limits = Self.limits
            limits.cooldown = 0
            limits.perAccountPerHour = 1_000
            limits.perPhonePerDay = 1_000
            limits.serverPerHour = 7
            let budget = limits
            let recorded = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try await store.recordSMSSend(
                            userID: Int64(index % 20),
                            phone: "+3161234\(1000 + index)",
                            purpose: "sign_in",
                            at: 50,
                            limits: budget
                        )
                            == nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(recorded == 7)

            limits.serverPerHour = 1_000
            limits.cooldown = 60
            let cooldown = limits
            let oneAccount = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        try await store.recordSMSSend(userID: 99, phone: Self.phone, purpose: "sign_in", at: 60, limits: cooldown) == nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(oneAccount == 1, "the cooldown lets one of a burst through")
        }
    }
}
