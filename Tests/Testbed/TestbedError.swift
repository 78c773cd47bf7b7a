/// Why a testbed operation failed. Every case carries what a person needs to see in a
/// failed test: the command, its output, how long was waited.
public enum TestbedError: Error, CustomStringConvertible {
    /// `Deploy/testbed` was not where the repository layout says it is.
    case scriptNotFound(path: String)
    /// A command (a testbed operation, or one run with `check`) exited unsuccessfully.
    case commandFailed(ProcessResult)
    /// A command did not finish in time and was killed; `output` is what it printed.
    case timedOut(command: [String], after: Duration, output: ProcessResult?)
    /// A polled condition never held before the deadline.
    case pollTimedOut(what: String, after: Duration, lastError: (any Error)?)
    /// A background process ended before printing the line that was waited for.
    case exitedWithoutLine(ProcessResult)
    /// No line matched before the deadline; `lines` is everything printed so far.
    case lineTimedOut(command: [String], after: Duration, lines: [String])
    /// The host is not part of this testbed.
    case noSuchHost(HostRef, testbed: String)
    /// The testbed was already torn down.
    case alreadyDown(testbed: String)
    /// A built product was not found; `searched` lists the directories looked in.
    case executableNotFound(name: String, searched: [String])

    public var description: String {
        switch self {
        case .scriptNotFound(let path):
            "testbed script not found at \(path) (set Z2Z_TESTBED_SCRIPT to override)"
        case .commandFailed(let result):
            "command failed: \(result)"
        case .timedOut(let command, let after, let output):
            "\(command.joined(separator: " ")) did not finish within \(after); killed."
                + (output.map { " Output so far: \($0)" } ?? "")
        case .pollTimedOut(let what, let after, let lastError):
            "\(what) did not hold within \(after)" + (lastError.map { "; last error: \($0)" } ?? "")
        case .exitedWithoutLine(let result):
            "process ended before printing the expected line: \(result)"
        case .lineTimedOut(let command, let after, let lines):
            "\(command.joined(separator: " ")) printed no matching line within \(after); it printed:\n"
                + lines.joined(separator: "\n")
        case .noSuchHost(let host, let testbed):
            "testbed \(testbed) has no host \(host)"
        case .alreadyDown(let testbed):
            "testbed \(testbed) is already down"
        case .executableNotFound(let name, let searched):
            "built product \(name) not found in \(searched.joined(separator: ", ")); "
                + "build it (swift build) or set Z2Z_BUILD_DIR"
        }
    }
}
