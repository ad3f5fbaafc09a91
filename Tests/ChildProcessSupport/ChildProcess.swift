public import Foundation
public import Glibc

/// A program a test starts (`twostep serve`, the SMTP server, oathtool, pyotp …), spawned with `posix_spawn`.
///
/// Not Foundation's `Process`: on Linux its `run()` lists `/proc/self/fd` into a fixed 32 KiB buffer and
/// writes past it when more than ~1,360 descriptors are open, which the whole test run (hundreds of SQLite
/// test databases at once) reaches; it crashed the run with SIGSEGV about every other time.
/// Here the child closes every descriptor above 2 in one `closefrom` file action, whatever their number.
///
/// Blocking waits (`waitpid`, pipe reads) run on threads of their own, never on Swift's cooperative pool:
/// it has one thread per core (two here), and one blocked thread stalls every live server in the run.
public final class ChildProcess: @unchecked Sendable {
    /// Where one of the child's standard streams goes.
    public enum Redirection: Sendable {
        /// `/dev/null`.
        case null
        /// The test process's own stream.
        case inherit
        /// A pipe whose other end is `standardInput`, `standardOutput` or `standardError`.
        case pipe
        /// A file: read for stdin; for stdout and stderr created or truncated, then written.
        case file(String)
    }

    /// How the child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        /// What Foundation's `Process.terminationStatus` reported: the exit code, or the signal's number.
        public var status: Int32 {
            switch self {
            case .exited(let code), .signalled(let code): code
            }
        }

        public var description: String {
            switch self {
            case .exited(let code): "exited with \(code)"
            case .signalled(let signal): "killed by signal \(signal)"
            }
        }

        /// Decodes a `waitpid` status (the `WIFSIGNALED`/`WTERMSIG`/`WEXITSTATUS` macros, which Swift does not import).
        init(waitStatus: Int32) {
            let signal = waitStatus & 0x7f
            self = signal == 0 ? .exited((waitStatus >> 8) & 0xff) : .signalled(signal)
        }
    }

    public let pid: pid_t
    /// The write end of the child's stdin, when it is `.pipe`.
    public let standardInput: FileHandle?
    /// The read end of the child's stdout, when it is `.pipe`.
    public let standardOutput: FileHandle?
    /// The read end of the child's stderr, when it is `.pipe`.
    public let standardError: FileHandle?

    private let condition = NSCondition()
    private var ended: Termination?
    private var whenEnded: [@Sendable (Termination) -> Void] = []

    /// Starts a program.
    /// - Parameters:
    ///   - executable: An absolute path, or a name looked up on `PATH` (the child's, else ours).
    ///   - environment: The child's whole environment; nil passes ours on.
    public init(
        _ executable: String,
        _ arguments: [String] = [],
        environment: [String: String]? = nil,
        standardInput: Redirection = .null,
        standardOutput: Redirection = .null,
        standardError: Redirection = .null
    ) throws {
        let path = try Self.locate(executable, environment: environment)
        var actions = posix_spawn_file_actions_t()
        try check("posix_spawn_file_actions_init", posix_spawn_file_actions_init(&actions))
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        try check("posix_spawnattr_init", posix_spawnattr_init(&attributes))
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, as Foundation's Process did; and a clean signal state: a mask or an ignored
        // SIGPIPE/SIGTERM of the spawning test thread must not leak into the program under test.
        try check(
            "posix_spawnattr_setflags",
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        )
        var signals = sigset_t()
        sigemptyset(&signals)
        try check("posix_spawnattr_setsigmask", posix_spawnattr_setsigmask(&attributes, &signals))
        sigfillset(&signals)
        try check("posix_spawnattr_setsigdefault", posix_spawnattr_setsigdefault(&attributes, &signals))

        Self.spawnLock.lock()
        defer { Self.spawnLock.unlock() }
        var childEnds: [Int32] = []
        var ours: [Int32?] = [nil, nil, nil]
        defer { childEnds.forEach { close($0) } }
        do {
            for (descriptor, redirection) in [standardInput, standardOutput, standardError].enumerated() {
                let target = Int32(descriptor)
                let isInput = target == STDIN_FILENO
                switch redirection {
                case .inherit:
                    break
                case .null:
                    try check("addopen", posix_spawn_file_actions_addopen(&actions, target, "/dev/null", isInput ? O_RDONLY : O_WRONLY, 0))
                case .file(let file):
                    let flags = isInput ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC
                    try check("addopen", posix_spawn_file_actions_addopen(&actions, target, file, flags, 0o644))
                case .pipe:
                    let (readEnd, writeEnd) = try Self.pipe()
                    childEnds.append(isInput ? readEnd : writeEnd)
                    ours[descriptor] = isInput ? writeEnd : readEnd
                    try check("adddup2", posix_spawn_file_actions_adddup2(&actions, isInput ? readEnd : writeEnd, target))
                }
            }
            // Whatever else is open here (database files, sockets, other children's pipes) stays out of the
            // child. Without glibc 2.34's closefrom action, our own pipes are still close-on-exec (set under
            // spawnLock), and so are the descriptors Foundation, NIO and SQLite open.
            if let addCloseFrom = Self.addCloseFrom {
                try check("addclosefrom_np", addCloseFrom(&actions, 3))
            }
            var spawned = pid_t()
            let result = try Self.withCStrings([path] + arguments) { argv in
                try Self.withEnvironment(environment) { envp in posix_spawn(&spawned, path, &actions, &attributes, argv, envp) }
            }
            guard result == 0 else {
                throw result == ENOENT ? ChildProcessError.notFound(executable) : ChildProcessError.failed("posix_spawn \(path)", errno: result)
            }
            pid = spawned
        } catch {
            ours.compactMap { $0 }.forEach { close($0) }
            throw error
        }
        self.standardInput = ours[0].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        self.standardOutput = ours[1].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        self.standardError = ours[2].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        Thread { [self] in reap() }.start()
    }

    /// Whether the child has not ended yet.
    public var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        return ended == nil
    }

    /// How it ended, or nil while it runs.
    public var termination: Termination? {
        condition.lock()
        defer { condition.unlock() }
        return ended
    }

    /// Sends `signal` (SIGTERM, SIGKILL …) unless the child has already ended and been reaped, so a reused
    /// process id is never hit.
    public func signal(_ signal: Int32) {
        condition.lock()
        defer { condition.unlock() }
        if ended == nil { kill(pid, signal) }
    }

    /// Blocks the calling thread until the child ends. For synchronous callers; async code awaits `terminated()`.
    @discardableResult
    public func waitUntilExit() -> Termination {
        condition.lock()
        defer { condition.unlock() }
        while ended == nil { condition.wait() }
        return ended!
    }

    /// Suspends (without holding a thread) until the child ends.
    @discardableResult
    public func terminated() async -> Termination {
        await withCheckedContinuation { continuation in whenTerminated { continuation.resume(returning: $0) } }
    }

    /// Calls `body` once the child has ended (at once if it has), on the reaping thread.
    func whenTerminated(_ body: @escaping @Sendable (Termination) -> Void) {
        condition.lock()
        guard let ended else {
            whenEnded.append(body)
            condition.unlock()
            return
        }
        condition.unlock()
        body(ended)
    }

    /// Runs on the child's own thread: waits without reaping, then reaps under the lock that `signal` takes,
    /// so `kill` can never reach another process that got the same id.
    private func reap() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        condition.lock()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let termination = Termination(waitStatus: status)
        ended = termination
        let waiting = whenEnded
        whenEnded = []
        condition.broadcast()
        condition.unlock()
        waiting.forEach { $0(termination) }
    }

    // MARK: - Spawning

    /// Held while our pipes are made and while we spawn, so no child of ours inherits another one's pipe
    /// in the moment before it is marked close-on-exec (`pipe2` is not in Swift's Glibc module).
    private static let spawnLock = NSLock()

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc ≥ 2.34's `posix_spawn_file_actions_addclosefrom_np`, looked up at run time: spawn.h declares it
    /// only under `_GNU_SOURCE`, which Swift's Glibc module does not define.
    private static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: AddCloseFrom.self)
    }

    /// Whether children get nothing but their three standard streams, whatever else is open here.
    public static var closesOtherDescriptors: Bool { addCloseFrom != nil }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard Glibc.pipe(&ends) == 0 else { throw ChildProcessError.failed("pipe", errno: errno) }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        return (ends[0], ends[1])
    }

    /// The path to run: `executable` itself when it holds a `/`, else the first executable match on `PATH`.
    static func locate(_ executable: String, environment: [String: String]?) throws -> String {
        if executable.contains("/") { return executable }
        let search = (environment ?? ProcessInfo.processInfo.environment)["PATH"] ?? "/usr/bin:/bin"
        let found = search.split(separator: ":").map { "\($0)/\(executable)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let found else { throw ChildProcessError.notFound(executable) }
        return found
    }

    private static func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) throws -> T) rethrows -> T {
        let copies = strings.map { $0.withCString { strdup($0) } } + [nil]
        defer { copies.forEach { free($0) } }
        return try body(copies)
    }

    private static func withEnvironment<T>(
        _ environment: [String: String]?,
        _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) throws -> T
    )
        rethrows -> T
    {
        guard let environment else { return try body(environ) }
        return try withCStrings(environment.map { "\($0.key)=\($0.value)" }) { try body($0) }
    }
}

private func check(_ call: String, _ result: Int32) throws {
    guard result == 0 else { throw ChildProcessError.failed(call, errno: result) }
}

/// Why a child could not be started.
public struct ChildProcessError: Error, Equatable, CustomStringConvertible {
    private enum Code: Equatable {
        case notFound(String)
        case failed(String, Int32)
    }

    private let code: Code

    /// No such program (not on `PATH`, or no file at that path).
    public static func notFound(_ program: String) -> Self { Self(code: .notFound(program)) }

    /// A system call failed with `errno`.
    public static func failed(_ call: String, errno: Int32) -> Self { Self(code: .failed(call, errno)) }

    public var description: String {
        switch code {
        case .notFound(let program): "\(program): no such program"
        case .failed(let call, let error): "\(call): \(String(cString: strerror(error)))"
        }
    }
}
