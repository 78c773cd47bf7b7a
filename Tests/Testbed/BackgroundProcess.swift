import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A long-running command inside a testbed host (an `avahi-publish`, a listener, a
/// `z2zd`), started by `Testbed.spawn`. Its output can be followed line by line while it
/// runs; `Testbed.down` kills it if nobody did before.
public final class BackgroundProcess: Sendable {
    public let host: HostRef
    private let child: ChildProcess

    init(host: HostRef, child: ChildProcess) {
        self.host = host
        self.child = child
    }

    /// The command as given to `spawn`.
    public var command: [String] { child.command }

    /// The process id (of the command itself: the testbed wrapper execs into it).
    public var pid: Int32 { child.pid }

    public var isRunning: Bool { !child.hasExited }

    /// stdout lines: every line printed so far, then each new one as it arrives; ends
    /// when the process closes stdout. Every access is a new, independent stream.
    public var lines: AsyncStream<String> { child.lines(.stdout) }

    /// stderr lines, like `lines`.
    public var errorLines: AsyncStream<String> { child.lines(.stderr) }

    /// The stdout lines printed so far.
    public var output: [String] { child.linesSoFar(.stdout) }

    /// The stderr lines printed so far (a daemon's log).
    public var errorOutput: [String] { child.linesSoFar(.stderr) }

    /// The first stdout line (printed before or after this call) that satisfies
    /// `predicate`. Throws when the process ends without printing one, or at the deadline.
    @discardableResult
    public func waitForLine(
        timeout: Duration = .seconds(10), where predicate: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        try await waitForLine(in: .stdout, timeout: timeout, where: predicate)
    }

    /// The first stdout line containing `text`.
    @discardableResult
    public func waitForLine(containing text: String, timeout: Duration = .seconds(10)) async throws -> String {
        try await waitForLine(timeout: timeout) { $0.contains(text) }
    }

    /// The first stderr line that satisfies `predicate` (logs go there).
    @discardableResult
    public func waitForErrorLine(
        timeout: Duration = .seconds(10), where predicate: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        try await waitForLine(in: .stderr, timeout: timeout, where: predicate)
    }

    /// The first stderr line containing `text` (`avahi-publish` says "Established" there).
    @discardableResult
    public func waitForErrorLine(containing text: String, timeout: Duration = .seconds(10)) async throws -> String {
        try await waitForErrorLine(timeout: timeout) { $0.contains(text) }
    }

    private func waitForLine(
        in stream: ChildProcess.Stream, timeout: Duration, where predicate: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        let lines = child.lines(stream)
        let found: String?? = await withTaskGroup(of: String??.self) { group in
            group.addTask {
                for await line in lines where predicate(line) { return .some(line) }
                return .some(nil) // the stream ended: the process closed it
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .none
            }
            let first = await group.next() ?? .none
            group.cancelAll()
            return first
        }
        try Task.checkCancellation()
        switch found {
        case .some(.some(let line)):
            return line
        case .some(.none):
            let result = await child.result(until: .now + .seconds(5)) ?? child.snapshot()
            throw TestbedError.exitedWithoutLine(result)
        case .none:
            throw TestbedError.lineTimedOut(command: command, after: timeout, lines: child.linesSoFar(stream))
        }
    }

    /// Asks the process to stop (SIGTERM to its process group).
    public func terminate() { child.send(SIGTERM) }

    /// Stops the process at once (SIGKILL to its process group).
    public func kill() { child.send(SIGKILL) }

    /// Sends `signal` to the process group.
    public func send(_ signal: Int32) { child.send(signal) }

    /// Waits for the process to end (by itself, or after `terminate`); throws at the
    /// deadline, without killing it.
    @discardableResult
    public func wait(timeout: Duration = .seconds(10)) async throws -> ProcessResult {
        if let result = await child.result(until: .now + timeout) { return result }
        try Task.checkCancellation()
        throw TestbedError.timedOut(command: command, after: timeout, output: child.snapshot())
    }

    /// Terminates the process and waits for it to end, killing it if it takes longer than
    /// `grace`.
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) async -> ProcessResult {
        terminate()
        if let result = await child.result(until: .now + grace) { return result }
        kill()
        return await child.result(until: .now + .seconds(5)) ?? child.snapshot()
    }
}
