import ChildProcessSupport
import Foundation
import Glibc
import Testing

@Suite("ChildProcess")
struct ChildProcessTests {
    @Test func exitStatusIsReported() throws {
        let output = try ChildProcess.run("sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(output.termination == .exited(3))
        #expect(output.status == 3)
        #expect(output.text == "out\n")
        #expect(output.stderr == "err\n")
        #expect(try ChildProcess.run("true").termination == .exited(0))
    }

    @Test func signalledChildIsToldApartFromAnExit() async throws {
        let output = try await ChildProcess.run("sh", ["-c", "kill -TERM $$"])
        #expect(output.termination == .signalled(SIGTERM))
        // Foundation's terminationStatus gave the signal's number too; callers comparing with 0 still fail.
        #expect(output.status == SIGTERM)

        let sleeper = try ChildProcess("sleep", ["60"])
        #expect(sleeper.isRunning)
        sleeper.signal(SIGKILL)
        #expect(await sleeper.terminated() == .signalled(SIGKILL))
        #expect(!sleeper.isRunning)
        #expect(sleeper.waitUntilExit() == .signalled(SIGKILL))
        // A reaped child's id may belong to another process by now: signalling it again must do nothing.
        sleeper.signal(SIGKILL)
    }

    /// 1.5 MiB on stderr while our 2 MiB of stdin is still unread, then 2 MiB echoed on stdout: a runner that
    /// wrote stdin and read the two pipes one after the other on one thread would stall on a full pipe.
    @Test(.timeLimit(.minutes(1))) func bigOutputOnBothStreamsDoesNotStall() async throws {
        let input = Data((0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) })
        let script = "head -c 1572864 /dev/zero | tr '\\0' e >&2; cat"
        // In an async function the async overload wins; this is the blocking one, as synchronous tests call it.
        let runBlocking: () throws -> ChildProcess.Output = { try ChildProcess.run("sh", ["-c", script], input: input) }
        let synchronous = try runBlocking()
        #expect(synchronous.status == 0)
        #expect(synchronous.stdout == input)
        #expect(synchronous.stderr == String(repeating: "e", count: 1_572_864))

        let asynchronous = try await ChildProcess.run("sh", ["-c", script], input: input)
        #expect(asynchronous.stdout == input)
        #expect(asynchronous.stderr.utf8.count == 1_572_864)
    }

    @Test func stdinIsFedAndClosed() throws {
        let output = try ChildProcess.run("wc", ["-c"], input: Data("twelve bytes".utf8))
        #expect(output.text.trimmingCharacters(in: .whitespacesAndNewlines) == "12")
        // Without input, stdin is /dev/null: an immediate end of file, never the test runner's terminal.
        #expect(try ChildProcess.run("cat").stdout.isEmpty)
        // A child that exits without reading must not kill the test process with SIGPIPE.
        #expect(try ChildProcess.run("true", input: Data(count: 1 << 20)).status == 0)
    }

    @Test func environmentIsTheGivenOne() throws {
        let output = try ChildProcess.run("/bin/sh", ["-c", "echo \"$GREETING:$HOME\""], environment: ["GREETING": "hello"])
        #expect(output.text == "hello:\n")
    }

    @Test func missingProgramThrows() {
        #expect(throws: ChildProcessError.notFound("twostep-no-such-program")) { try ChildProcess.run("twostep-no-such-program") }
        #expect(throws: ChildProcessError.notFound("/nonexistent/twostep")) { try ChildProcess("/nonexistent/twostep") }
    }

    @Test func longRunningChildWritesToFiles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("child-process-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Long enough to outlast a loaded CI host: with `sleep 60` a run starved this test for over
        // a minute, and the child had ended by itself before it was signalled.
        let child = try ChildProcess(
            "sh",
            ["-c", "echo started; echo warning >&2; exec sleep 600"],
            standardOutput: .file(directory + "/out"),
            standardError: .file(directory + "/err")
        )
        while (try? String(contentsOfFile: directory + "/out", encoding: .utf8)) != "started\n" { try await Task.sleep(for: .milliseconds(20)) }
        #expect(child.isRunning)
        child.signal(SIGTERM)
        #expect(await child.terminated() == .signalled(SIGTERM))
        #expect(try String(contentsOfFile: directory + "/err", encoding: .utf8) == "warning\n")
    }

    /// The whole test run holds ~2,600 descriptors at its peak; Foundation's `Process.run()` crashed with
    /// SIGSEGV above ~1,360 (it overruns a 32 KiB buffer listing /proc/self/fd). 3,000 more, none of them
    /// close-on-exec: spawning still works, and the child inherits none of them.
    @Test func spawnsWithThousandsOfDescriptorsOpen() throws {
        let opened = (0..<3_000).map { _ in open("/dev/null", O_RDONLY) }
        defer { opened.filter { $0 >= 0 }.forEach { close($0) } }
        #expect(opened.allSatisfy { $0 >= 0 }, "could not open 3,000 descriptors (RLIMIT_NOFILE?)")
        #expect(try ChildProcess.run("true").status == 0)
        #expect(ChildProcess.closesOtherDescriptors)
        // ls's own directory handle is the fourth.
        let listed = try ChildProcess.run("ls", ["/proc/self/fd"]).text.split(separator: "\n")
        #expect(listed.count <= 4, "the child inherited \(listed.count) descriptors")
    }
}
