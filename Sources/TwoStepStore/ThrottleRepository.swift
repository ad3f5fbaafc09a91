/// Attempt budgets — an account's second-factor codes, its recovery codes, its password; a client
/// address; an API key — each one row under a key, holding a policy's state as text.
///
/// A budget changes only by compare-and-set: the caller reads the state, decides with a pure
/// policy (`LockoutPolicy`, `TokenBucket`) and writes the new state on condition that the stored
/// one is still what it read, in one statement. "May I try?" and "count this try" are therefore
/// one atomic conditional write, on SQLite and PostgreSQL alike, taken *before* a code or password
/// is compared: of concurrent attempts, only as many as the policy allows are ever checked.
public protocol ThrottleRepository: Sendable {
    /// The state stored under `key`, or `nil`.
    func throttleState(key: String) async throws -> String?
    /// Replaces the state under `key` if it is still `expected` (`nil`: no row), in one statement;
    /// `new == nil` removes the row.
    /// - Returns: Whether this call changed it.
    func replaceThrottleState(key: String, expected: String?, new: String?, at time: UnixTime) async throws -> Bool
    /// Removes the rows under these keys (an operator's unlock).
    func deleteThrottles(keys: [String]) async throws
    /// Removes rows under keys starting with `prefix` untouched since before `time`.
    func deleteThrottles(prefix: String, updatedBefore time: UnixTime) async throws
}
