import Foundation
import Synchronization
import Testbed

#if canImport(Glibc)
import Glibc
#endif

/// One z2zd on a testbed host: its state directory and log (`<testbed>/<host>/z2zd.log`)
/// live in the testbed's directory, so a gateway killed and started again is the same
/// gateway (same identity) and its log runs on.
public final class GatewayProcess: Sendable {
    public let host: HostRef
    public let island: String
    private let lab: Lab
    private let arguments: [String]
    private let current: Mutex<BackgroundProcess?> = Mutex(nil)

    /// The log file, appended to by every start.
    public var log: String { "\(lab.bed.directory)/\(host)/z2zd.log" }

    /// Starts it. `seed`: a host whose gateway it bootstraps from (port 7400); `wrapper`: a
    /// command to run z2zd under (`env VAR=value`) that execs it.
    init(lab: Lab, host: HostRef, island: String, seed: HostRef?, priority: Int, wrapper: [String]) throws {
        self.lab = lab
        self.host = host
        self.island = island
        arguments = wrapper + [
            lab.binaries.z2zd, "--state-dir", "\(lab.bed.directory)/\(host)/z2z", "--island", island,
            "--priority", "\(priority)", "--network-key-file", try lab.bed.networkKeyFile(),
        ] + (seed.map { ["--bootstrap", "\(lab.bed.address(of: $0).v4):7400"] } ?? [])
        try start()
    }

    /// Starts it (again, after it stopped).
    public func start() throws {
        let process = try lab.bed.spawn(host, arguments, log: log)
        current.withLock { $0 = process }
    }

    private var process: BackgroundProcess? { current.withLock { $0 } }

    public var isAlive: Bool { process?.isRunning ?? false }

    /// Its pid (the wrapper execs it, so the spawned process is z2zd itself).
    public var pid: Int32? { process?.pid }

    public func send(_ signal: Int32) { process?.send(signal) }

    /// Sends `signal` and waits up to `timeout` for it to exit, then kills it. The exit
    /// status as Deploy/faults always printed it: the code, or minus the signal.
    @discardableResult
    public func stop(_ signal: Int32 = SIGTERM, timeout: Duration = .seconds(10)) async -> Int32 {
        guard let process else { return 0 }
        process.send(signal)
        var result = try? await process.wait(timeout: timeout)
        if result == nil {
            process.kill()
            result = try? await process.wait(timeout: .seconds(5))
        }
        guard let result else { return -SIGKILL }
        return result.signal.map { -$0 } ?? result.exitCode
    }

    /// Waits up to `timeout` for it to exit (after a signal sent with `send`).
    public func waitForExit(timeout: Duration = .seconds(5)) async {
        _ = try? await process?.wait(timeout: timeout)
    }

    /// `z2z status --json`'s role; nil when it does not answer.
    public func role() async -> String? {
        await z2z(["status", "--json"]).flatMap(roleInStatus)
    }

    /// `z2z services --json`; nil when it does not answer.
    public func services() async -> [ListedService]? {
        await z2z(["services", "--json"]).flatMap(ListedService.decode)
    }

    private func z2z(_ command: [String]) async -> String? {
        guard let result = try? await lab.bed.run(host, [lab.binaries.z2z] + command, timeout: .seconds(10)),
              result.succeeded else { return nil }
        return result.stdout
    }

    /// Resident memory (VmRSS, KiB); nil when it is not running.
    public func rssKiB() -> Int? {
        guard let pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first }.flatMap { Int($0) }
    }

    /// Open file descriptors; nil when it is not running.
    public func descriptors() -> Int? {
        guard let pid, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { return nil }
        return entries.count
    }

    /// Lines of its log (all its runs) that contain `text`.
    public func logLines(containing text: String) -> Int {
        LogScan.lines(in: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "", containing: text)
    }
}
