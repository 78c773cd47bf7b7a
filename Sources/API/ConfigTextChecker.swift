import Config
import Foundation
import Logging
import Z2ZAPI

/// Checks a configuration text (`POST /api/v1/config/check`).
public protocol ConfigTextChecker: Sendable {
    func check(_ text: String) async -> ConfigCheckResult
}

/// Parses in this process: tests, and tools that embed the API. TOMLKit leaks a little
/// memory on every parse (RELIABILITY.md, Fuzzing), so a long-running daemon uses
/// `ConfigCheckerProcess` instead.
public struct InProcessConfigChecker: ConfigTextChecker {
    public init() {}

    public func check(_ text: String) async -> ConfigCheckResult {
        ConfigCheckResult(file: nil, result: ConfigurationLoader.parse(text))
    }
}

/// Parses in a child process that is replaced after `checksPerProcess` checks, so what
/// TOMLKit leaks per parse (~2 KiB for a small file) is handed back to the system with the
/// child instead of piling up in the daemon (issue 18: 52 → 315 MB after 120,000 posts).
///
/// The child is this executable started with `--config-checker`
/// (`ConfigCheckerChild.serve`). One check at a time (the actor serializes them; a check
/// of a 64 KiB text takes milliseconds). A child that does not answer within `timeout` is
/// killed and the check answered with a problem; the next check starts a new child. If no
/// child can be started at all, checks run in process, said once in the log.
///
/// The exchange is by hand over Foundation's `Process` pipes: one framed request, one
/// framed answer, in turn. NIO's pipe channel would be the library way, but its scoped
/// async channel does not fit a child replaced between requests, and nothing here needs
/// non-blocking reads (the wait runs on a thread of its own, off the cooperative pool).
public actor ConfigCheckerProcess: ConfigTextChecker {
    public static let defaultChecksPerProcess = 1_000
    let executable: String
    let arguments: [String]
    let checksPerProcess: Int
    let timeout: Duration
    let logger: Logger
    private var child: Child?
    private var fellBack = false
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Children started so far (the metric of recycling; tests read it).
    public private(set) var started = 0

    struct Child {
        let process: Process
        let requests: FileHandle
        let answers: FileHandle
        var checks = 0
    }

    /// - Parameter executable: the z2zd binary; by default the running one.
    public init(executable: String = "/proc/self/exe", arguments: [String] = ["--config-checker"],
                checksPerProcess: Int = ConfigCheckerProcess.defaultChecksPerProcess, timeout: Duration = .seconds(5),
                logger: Logger = Logger(label: "z2z.api")) {
        self.executable = executable
        self.arguments = arguments
        self.checksPerProcess = max(1, checksPerProcess)
        self.timeout = timeout
        self.logger = logger
        // A write to a child that died must be an error, not a signal that ends the daemon.
        signal(SIGPIPE, SIG_IGN)
    }

    public func check(_ text: String) async -> ConfigCheckResult {
        // One check at a time, in the order they came: a burst of requests waits its turn
        // instead of starting a child each.
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        }
        busy = true
        defer {
            if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
        }
        guard var current = child ?? startChild() else { return await InProcessConfigChecker().check(text) }
        child = nil
        let answer = await Self.exchange(ConfigCheckerFrame.frame(Array(text.utf8)), with: current, timeout: timeout)
        current.checks += 1
        guard let answer else {
            logger.warning("the configuration checker did not answer; starting a new one",
                           metadata: ["pid": "\(current.process.processIdentifier)"])
            Self.stop(current)
            return ConfigCheckResult(ok: false, file: nil, problems: [Self.notChecked])
        }
        if current.checks >= checksPerProcess { Self.stop(current) } else { child = current }
        return answer
    }

    /// Ends the current child (the daemon stopping).
    public func shutDown() {
        if let child { Self.stop(child) }
        child = nil
    }

    static let notChecked = problem("the check did not finish in time")

    /// A problem with the posted text as a whole.
    static func problem(_ message: String) -> ConfigCheckResult.Problem {
        ConfigCheckResult.Problem(ConfigProblem(source: .file(path: nil, line: nil, column: nil), key: nil,
                                                reason: .unreadableFile, message: message))
    }

    private func startChild() -> Child? {
        guard !fellBack else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let requests = Pipe(), answers = Pipe()
        process.standardInput = requests
        process.standardOutput = answers
        do { try process.run() } catch {
            fellBack = true
            logger.warning("cannot start a configuration checker process; checking in this process",
                           metadata: ["executable": "\(executable)", "reason": "\(error)"])
            return nil
        }
        started += 1
        return Child(process: process, requests: requests.fileHandleForWriting, answers: answers.fileHandleForReading)
    }

    private static func stop(_ child: Child) {
        try? child.requests.close() // end of input: a child that is well exits
        // SIGKILL, not SIGTERM: a child inherits ignored signals, and the daemon ignores
        // SIGTERM to handle it itself (service-lifecycle's signal sources).
        if child.process.isRunning { kill(child.process.processIdentifier, SIGKILL) }
        try? child.answers.close()
        let process = child.process
        // Reaped on a thread of its own (waitUntilExit blocks): never on Dispatch's global
        // queues, which on Linux share the cooperative pool's few threads.
        Thread.detachNewThread { process.waitUntilExit() }
    }

    /// Sends one request and reads its answer, or nil on any failure; a child silent past
    /// `timeout` is killed, which ends the blocked read.
    private static func exchange(_ request: [UInt8], with child: Child, timeout: Duration) async -> ConfigCheckResult? {
        let process = child.process
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        defer { watchdog.cancel() }
        // The blocking write and read run on a thread of their own, for the same reason.
        let bytes: [UInt8]? = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                do {
                    try child.requests.write(contentsOf: request)
                    continuation.resume(returning: try ConfigCheckerFrame.read(from: child.answers))
                } catch {
                    continuation.resume(returning: nil)
                }
            }
        }
        guard let bytes else { return nil }
        return try? JSONDecoder().decode(ConfigCheckResult.self, from: Data(bytes))
    }
}

/// The child's side: answers framed texts on standard input with framed JSON results on
/// standard output until its input ends.
public enum ConfigCheckerChild {
    public static func serve() {
        let input = FileHandle.standardInput, output = FileHandle.standardOutput
        let encoder = JSONEncoder()
        while let request = try? ConfigCheckerFrame.read(from: input) {
            let result: ConfigCheckResult
            if let text = String(validating: request, as: UTF8.self) {
                result = ConfigCheckResult(file: nil, result: ConfigurationLoader.parse(text))
            } else {
                result = ConfigCheckResult(ok: false, file: nil, problems: [ConfigCheckerProcess.problem("is not UTF-8 text")])
            }
            guard let json = try? encoder.encode(result),
                  (try? output.write(contentsOf: ConfigCheckerFrame.frame(Array(json)))) != nil else { return }
        }
    }
}

/// A 4-byte big-endian length, then that many bytes.
enum ConfigCheckerFrame {
    /// Larger frames are refused: a request is at most the API's body limit, an answer a
    /// list of problems with it.
    static let maximumLength = 1 << 20

    enum Failure: Error { case endOfInput, tooLong(Int) }

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(clamping: payload.count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + payload
    }

    /// The next frame's payload; throws at the end of input, on a short read or an oversized length.
    static func read(from handle: FileHandle) throws -> [UInt8] {
        let header = try exactly(4, from: handle)
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        guard length <= maximumLength else { throw Failure.tooLong(length) }
        return try exactly(length, from: handle)
    }

    private static func exactly(_ count: Int, from handle: FileHandle) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            guard let data = try handle.read(upToCount: count - bytes.count), !data.isEmpty else { throw Failure.endOfInput }
            bytes += data
        }
        return bytes
    }
}
