public import Foundation
import Glibc

extension ChildProcess {
    /// What a program run to completion printed and how it ended.
    public struct Output: Sendable {
        public var termination: Termination
        public var stdout: Data
        public var stderr: String

        /// The exit code, or the signal's number (Foundation's `terminationStatus`).
        public var status: Int32 { termination.status }
        public var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs a program to completion, blocking the calling thread. Its stdin, stdout and stderr are each
    /// served by a thread of their own, so neither pipe's buffer can fill up and stall the child.
    /// - Parameters:
    ///   - input: Fed to its stdin, which is then closed; nil gives it `/dev/null`.
    public static func run(
        _ executable: String,
        _ arguments: [String] = [],
        environment: [String: String]? = nil,
        input: Data? = nil
    ) throws
        -> Output
    {
        try OutputCollector(executable, arguments, environment: environment, input: input).wait()
    }

    /// Runs a program to completion; the awaiting task holds no thread meanwhile.
    public static func run(
        _ executable: String,
        _ arguments: [String] = [],
        environment: [String: String]? = nil,
        input: Data? = nil
    ) async throws -> Output {
        let collector = try OutputCollector(executable, arguments, environment: environment, input: input)
        return await withCheckedContinuation { continuation in collector.whenDone { continuation.resume(returning: $0) } }
    }
}

/// Gathers a child's stdout, stderr and termination, each arriving on its own thread.
private final class OutputCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var stdout: Data?
    private var stderr: Data?
    private var termination: ChildProcess.Termination?
    private var output: ChildProcess.Output?
    private var waiting: [@Sendable (ChildProcess.Output) -> Void] = []

    init(_ executable: String, _ arguments: [String], environment: [String: String]?, input: Data?) throws {
        let child = try ChildProcess(
            executable,
            arguments,
            environment: environment,
            standardInput: input == nil ? .null : .pipe,
            standardOutput: .pipe,
            standardError: .pipe
        )
        if let input, let handle = child.standardInput {
            Thread {
                Self.write(input, to: handle.fileDescriptor)
                try? handle.close()
            }
            .start()
        }
        let (outputHandle, errorHandle) = (child.standardOutput!, child.standardError!)
        Thread { [self] in
            let data = Self.readToEnd(outputHandle.fileDescriptor)
            try? outputHandle.close()
            finish { stdout = data }
        }
        .start()
        Thread { [self] in
            let data = Self.readToEnd(errorHandle.fileDescriptor)
            try? errorHandle.close()
            finish { stderr = data }
        }
        .start()
        child.whenTerminated { [self] ended in finish { termination = ended } }
    }

    /// Blocks until the output is complete.
    func wait() -> ChildProcess.Output {
        condition.lock()
        defer { condition.unlock() }
        while output == nil { condition.wait() }
        return output!
    }

    func whenDone(_ body: @escaping @Sendable (ChildProcess.Output) -> Void) {
        condition.lock()
        guard let output else {
            waiting.append(body)
            condition.unlock()
            return
        }
        condition.unlock()
        body(output)
    }

    private func finish(_ record: () -> Void) {
        condition.lock()
        record()
        guard output == nil, let stdout, let stderr, let termination else {
            condition.unlock()
            return
        }
        let complete = ChildProcess.Output(termination: termination, stdout: stdout, stderr: String(decoding: stderr, as: UTF8.self))
        output = complete
        let callbacks = waiting
        waiting = []
        condition.broadcast()
        condition.unlock()
        callbacks.forEach { $0(complete) }
    }

    private static func readToEnd(_ descriptor: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                data.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                return data
            }
        }
    }

    /// Writes until done or the child stops reading. SIGPIPE is blocked on this thread: a child that exits
    /// without reading its input must give EPIPE here, not kill the whole test process.
    private static func write(_ data: Data, to descriptor: Int32) {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno != EINTR {
                    break
                }
            }
        }
        // The SIGPIPE an EPIPE raised is pending on this thread only, and is dropped when the thread ends.
    }
}
