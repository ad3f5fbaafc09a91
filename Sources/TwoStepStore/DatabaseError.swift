/// Why the database could not be opened or used: one line an operator can act on. Never holds a
/// password (the URL's is left out of every message).
public struct DatabaseError: Error, Equatable, CustomStringConvertible {
    private enum Kind: Equatable { case badURL, unreachable, refused, unavailable, notEmpty, mismatch }
    private let kind: Kind
    public let description: String

    /// The URL cannot be read.
    static func badURL(_ why: String) -> DatabaseError { DatabaseError(kind: .badURL, description: "bad database URL: \(why)") }
    /// Nothing answered at the address (connection refused, no route, timeout).
    static func unreachable(_ why: String) -> DatabaseError { DatabaseError(kind: .unreachable, description: why) }
    /// The server answered and said no (wrong password, no such database or user).
    static func refused(_ why: String) -> DatabaseError { DatabaseError(kind: .refused, description: why) }
    /// The database went away while serving (stopped, restarted, network cut): the request may be
    /// retried shortly. The server answers 503.
    public static let unavailable = DatabaseError(kind: .unavailable, description: "the database is unavailable")
    /// `db copy` found rows in the target.
    static func notEmpty(_ why: String) -> DatabaseError { DatabaseError(kind: .notEmpty, description: why) }
    /// `db copy` counted different rows after copying.
    static func mismatch(_ why: String) -> DatabaseError { DatabaseError(kind: .mismatch, description: why) }

    /// Whether the request may succeed later without anyone changing anything.
    public var isUnavailable: Bool { kind == .unavailable || kind == .unreachable }

    public static func == (lhs: DatabaseError, rhs: DatabaseError) -> Bool { lhs.kind == rhs.kind }
}
