@testable import TwoStepStore

extension SQLStore {
    /// One account by address, with its confirmed factors: validate's read, one name asked.
    func userWithConfirmedFactors(email: String) async throws -> (User, [Factor])? {
        try await usersWithConfirmedFactors(apiKeyID: 0, externalID: nil, email: email).byEmail
    }

    /// The same for the account a key named by its own id.
    func userWithConfirmedFactors(apiKeyID: Int64, externalID: String) async throws -> (User, [Factor])? {
        try await usersWithConfirmedFactors(apiKeyID: apiKeyID, externalID: externalID, email: nil).byID
    }
}
