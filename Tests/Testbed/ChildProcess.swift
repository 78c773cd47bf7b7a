import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How a finished command ended and what it printed.
public struct ProcessResult: Sendable, CustomStringConvertible {
    /// The command as the caller gave it (without the testbed wrapper).
    public let command: [String]
    /// The exit status; 128 + the signal number when a signal ended it, as a shell says.
    public let exitCode: Int32
    /// The signal that ended the process, if one did.
    public let signal: Int32?
    public let stdout: String
    public let stderr: String

    public var succeeded: Bool { exitCode == 0 && signal == nil }

    /// stdout split into lines, without a trailing empty one.
    public var lines: [String] { stdout.split(separator: "\n").map(String.init) }

    public var description: String {
        let how = signal.map { "killed by signal \($0)" } ?? "exit \(exitCode)"
        return "\(command.joined(separator: " ")) → \(how)\n--- stdout\n\(stdout)--- stderr\n\(stderr)---"
    }
}

/// A launched child process whose output is read on two dedicated threads, so a chatty
/// child never blocks on a full pipe and no blocking read ever occupies a thread of
/// Swift's cooperative pool. Finished means: exited, and both pipes at end of file.
/// (Not Foundation's `Process`: see `Spawn` for why.)
///
/// Pipes are close-on-exec and launches are serialized, so no child inherits another
/// child's pipe (whose reader would then wait for an EOF that only comes when this,
/// maybe long-running, child exits).
final class ChildProcess: Sendable {
    let command: [String]
    private let state = Mutex(State())

    private static let launchLock = Mutex(())

    enum Stream: Int { case stdout = 0, stderr = 1 }

    private struct State {
        var data: [Data] = [Data(), Data()]
        var partial: [Data] = [Data(), Data()]
        var lines: [[String]] = [[], []]
        var closed: [Bool] = [false, false]
        var subscribers: [[Int: AsyncStream<String>.Continuation]] = [[:], [:]]
        var pid: Int32 = 0
        var exit: (code: Int32, signal: Int32?)?
        var result: ProcessResult?
        var waiters: [Int: CheckedContinuation<ProcessResult?, Never>] = [:]
        var nextID = 0
    }

    /// Starts `executable arguments`; `command` is how messages name it. stdin is
    /// `input` followed by end of file (empty input when nil).
    static func launch(
        executable: String, arguments: [String], command: [String], input: Data? = nil
    ) throws -> ChildProcess {
        let child = ChildProcess(command: command)
        let launched = try launchLock.withLock { _ in
            let output = try Spawn.pipe()
            let errors = try Spawn.pipe()
            let stdin = try Spawn.socketPair()
            defer {
                close(output.write)
                close(errors.write)
                close(stdin.read)
            }
            do {
                let pid = try Spawn.start(
                    executable, arguments, stdin: stdin.read, stdout: output.write, stderr: errors.write)
                return (pid: pid, output: output.read, errors: errors.read, input: stdin.write)
            } catch {
                close(output.read)
                close(errors.read)
                close(stdin.write)
                throw error
            }
        }
        child.state.withLock { $0.pid = launched.pid }
        Spawn.onExit(of: launched.pid) { code, signal in child.exited(code: code, signal: signal) }
        child.startReading(launched.output, .stdout)
        child.startReading(launched.errors, .stderr)
        let fd = launched.input
        guard let input, !input.isEmpty else {
            close(fd)
            return child
        }
        Thread.detachNewThread {
            input.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                    if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { break }
                }
            }
            close(fd)
        }
        return child
    }

    private init(command: [String]) {
        self.command = command
    }

    var pid: Int32 { state.withLock { $0.pid } }

    // MARK: output

    private func startReading(_ fd: Int32, _ stream: Stream) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    received(Data(buffer[0..<n]), on: stream)
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(fd)
            closed(stream)
        }
    }

    private func received(_ chunk: Data, on stream: Stream) {
        let s = stream.rawValue
        state.withLock { state in
            state.data[s].append(chunk)
            state.partial[s].append(chunk)
            while let newline = state.partial[s].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: state.partial[s][..<newline], as: UTF8.self)
                state.partial[s] = Data(state.partial[s][(newline + 1)...])
                state.lines[s].append(line)
                for continuation in state.subscribers[s].values { continuation.yield(line) }
            }
        }
    }

    private func closed(_ stream: Stream) {
        let s = stream.rawValue
        let (subscribers, finished) = state.withLock { state in
            if !state.partial[s].isEmpty {
                let line = String(decoding: state.partial[s], as: UTF8.self)
                state.partial[s] = Data()
                state.lines[s].append(line)
                for continuation in state.subscribers[s].values { continuation.yield(line) }
            }
            defer { state.subscribers[s] = [:] }
            state.closed[s] = true
            return (Array(state.subscribers[s].values), Self.completeIfFinished(&state, command))
        }
        // Outside the lock: finishing a stream runs its onTermination, which takes the lock.
        for continuation in subscribers { continuation.finish() }
        finished?.forEach { $0.0.resume(returning: $0.1) }
    }

    private func exited(code: Int32, signal: Int32?) {
        let finished = state.withLock { state in
            state.exit = (code, signal)
            return Self.completeIfFinished(&state, command)
        }
        finished?.forEach { $0.0.resume(returning: $0.1) }
    }

    /// When the process has exited and both pipes are closed: records the result and
    /// returns the waiters to resume (outside the lock).
    private static func completeIfFinished(
        _ state: inout State, _ command: [String]
    ) -> [(CheckedContinuation<ProcessResult?, Never>, ProcessResult)]? {
        guard state.result == nil, let exit = state.exit, state.closed.allSatisfy({ $0 }) else { return nil }
        let result = ProcessResult(
            command: command, exitCode: exit.code, signal: exit.signal,
            stdout: String(decoding: state.data[0], as: UTF8.self),
            stderr: String(decoding: state.data[1], as: UTF8.self))
        state.result = result
        let waiters = state.waiters.values.map { ($0, result) }
        state.waiters = [:]
        return waiters
    }

    /// Every line printed on `stream` so far, then each new one as it arrives; ends when
    /// the stream closes. Each call is an independent stream.
    func lines(_ stream: Stream) -> AsyncStream<String> {
        let s = stream.rawValue
        return AsyncStream { continuation in
            let id = state.withLock { state in
                for line in state.lines[s] { continuation.yield(line) }
                if state.closed[s] {
                    continuation.finish()
                    return nil as Int?
                }
                state.nextID += 1
                state.subscribers[s][state.nextID] = continuation
                return state.nextID
            }
            if let id {
                continuation.onTermination = { [weak self] _ in
                    _ = self?.state.withLock { $0.subscribers[s].removeValue(forKey: id) }
                }
            }
        }
    }

    /// The lines printed on `stream` so far.
    func linesSoFar(_ stream: Stream) -> [String] {
        state.withLock { $0.lines[stream.rawValue] }
    }

    /// What the process printed so far, as a result (exit code -1 while it runs).
    func snapshot() -> ProcessResult {
        state.withLock { state in
            state.result ?? ProcessResult(
                command: command, exitCode: state.exit?.code ?? -1, signal: state.exit?.signal,
                stdout: String(decoding: state.data[0], as: UTF8.self),
                stderr: String(decoding: state.data[1], as: UTF8.self))
        }
    }

    var hasExited: Bool { state.withLock { $0.exit != nil } }

    // MARK: signals and waiting

    /// Signals the child's process group (`Spawn` starts every child in a group of its
    /// own), so helpers it started go too; does nothing once it has exited.
    func send(_ signal: Int32) {
        state.withLock { state in
            guard state.exit == nil, state.pid > 0 else { return }
            if kill(-state.pid, signal) != 0 { kill(state.pid, signal) }
        }
    }

    /// The result once finished; nil when `deadline` passes or the task is cancelled.
    func result(until deadline: ContinuousClock.Instant) async -> ProcessResult? {
        await withTaskGroup(of: ProcessResult?.self) { group in
            group.addTask { await self.result() }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// The result once finished, or nil when the task is cancelled first.
    private func result() async -> ProcessResult? {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done: ProcessResult?? = state.withLock { state in
                    if let result = state.result { return .some(result) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let done { continuation.resume(returning: done) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }

    /// Waits for the result; after `timeout` (or on cancellation) kills the process group
    /// and throws, with whatever was printed.
    func finish(within timeout: Duration) async throws -> ProcessResult {
        if let result = await result(until: .now + timeout) { return result }
        send(SIGKILL)
        let output = await result(until: .now + .seconds(5)) ?? snapshot()
        try Task.checkCancellation()
        throw TestbedError.timedOut(command: command, after: timeout, output: output)
    }
}
