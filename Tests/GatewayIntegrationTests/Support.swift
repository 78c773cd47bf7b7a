import DNSSD
import Foundation
import Synchronization
import Testbed
import Testing

/// The rendezvous engine a test's gateways run (`[dht] engine`).
enum Engine: String, CaseIterable, Sendable {
    case native, opendht

    /// The UDP port a seed is given at: the DHT port, or OpenDHT's (DHT port + 2).
    var seedPort: Int { self == .native ? 7400 : 7402 }
}

/// A z2zd on a testbed host, with its own state directory, on the default ports.
struct Gateway {
    let host: HostRef
    let process: BackgroundProcess

    /// `config`: the text of a TOML configuration file for it (flags still override it);
    /// `engine`: the rendezvous engine (`[dht] engine`), added to that file.
    static func start(_ bed: Testbed, _ host: HostRef, island: String, seed: HostRef?, priority: Int = 100,
                      config: String? = nil, engine: Engine = .native) throws -> Gateway {
        var arguments = try daemonArguments(bed, host) + ["--island", island, "--priority", String(priority)]
        let text = (engine == .native ? "" : "[dht]\nengine = \"\(engine.rawValue)\"\n") + (config ?? "")
        if !text.isEmpty {
            let file = "\(bed.directory)/\(host)/z2z.toml"
            try FileManager.default.createDirectory(atPath: "\(bed.directory)/\(host)", withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            arguments += ["--config", file]
        }
        if let seed { arguments += ["--bootstrap", "\(bed.address(of: seed).v4):\(engine.seedPort)"] }
        return Gateway(host: host, process: try bed.spawn(host, arguments))
    }

    /// The start of every z2zd command line in these tests: the executable, the host's own
    /// state directory, and the network key all gateways of the testbed share (without it
    /// each would create its own and none would admit another).
    static func daemonArguments(_ bed: Testbed, _ host: HostRef) throws -> [String] {
        [try BuildProducts.executable("z2zd"), "--state-dir", "\(bed.directory)/\(host)/z2z",
         "--network-key-file", try networkKeyFile(bed)]
    }

    /// `<testbed>/network.key`, created on first use (mode 600, 32 random bytes as hex).
    static func networkKeyFile(_ bed: Testbed) throws -> String {
        let path = "\(bed.directory)/network.key"
        if !FileManager.default.fileExists(atPath: path) {
            var generator = SystemRandomNumberGenerator()
            let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
            guard FileManager.default.createFile(atPath: path, contents: Data((hex + "\n").utf8),
                                                 attributes: [.posixPermissions: 0o600])
            else { throw CocoaError(.fileWriteUnknown) }
        }
        return path
    }

    /// `z2z status --json` on the gateway's host, decoded loosely (the fields the tests read).
    func status(_ bed: Testbed) async throws -> [String: Any] {
        let output = try await bed.runChecked(host, [try BuildProducts.executable("z2z"), "status", "--json"],
                                              timeout: .seconds(10))
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? [:]
    }

    /// The daemon's log so far (stderr), for failure messages.
    var log: String { process.errorOutput.suffix(40).joined(separator: "\n") }

    /// For a failure message: the log, and what the gateway and the avahi-daemon on its host
    /// say now (`z2z status`, `services`, `events`; `avahi-browse -arpt`, our own publications included).
    func diagnosis(_ bed: Testbed) async -> String {
        var parts = ["== \(host): log", log]
        for command in [["status"], ["services"], ["events"]] {
            let output = (try? await bed.runChecked(host, [try BuildProducts.executable("z2z")] + command, timeout: .seconds(10)))
            parts += ["== \(host): z2z \(command.joined(separator: " "))", output ?? "(failed)"]
        }
        let browse = try? await bed.runChecked(host, ["avahi-browse", "-arpt"], timeout: .seconds(10))
        parts += ["== \(host): avahi-browse -arpt", browse ?? "(failed)"]
        return parts.joined(separator: "\n")
    }
}

/// A long-running `avahi-browse -rpk TYPE` on one host: every line with the time it arrived.
final class BrowseWatcher: Sendable {
    struct Event: Sendable {
        var at: ContinuousClock.Instant
        var line: BrowseLine
    }

    private final class Log: Sendable {
        let events = Mutex<[Event]>([])
    }

    let host: HostRef
    private let process: BackgroundProcess
    private let log = Log()
    private let reader: Task<Void, Never>

    init(_ bed: Testbed, _ host: HostRef, type: String) throws {
        self.host = host
        process = try bed.spawn(host, ["avahi-browse", "-rpk", type])
        let (log, lines) = (self.log, process.lines)
        reader = Task {
            for await text in lines {
                guard let line = try? BrowseLine(parsing: text) else { continue }
                let now = ContinuousClock.now
                log.events.withLock { $0.append(Event(at: now, line: line)) }
            }
        }
    }

    deinit { reader.cancel() }

    var all: [Event] { log.events.withLock { $0 } }

    /// The resolved services present now (last `=` of each instance and protocol, unless a
    /// later `-` removed it).
    var present: [BrowseLine] {
        var state: [String: BrowseLine] = [:]
        for event in all {
            let key = "\(event.line.protocolName) \(event.line.id)"
            switch event.line.kind {
            case .resolved: state[key] = event.line
            case .removed: state[key] = nil
            case .added: break
            }
        }
        return state.keys.sorted().compactMap { state[$0] }
    }

    /// When the first event after `start` that satisfies `predicate` arrived.
    func first(after start: ContinuousClock.Instant, where predicate: (BrowseLine) -> Bool) -> ContinuousClock.Instant? {
        all.first { $0.at >= start && predicate($0.line) }?.at
    }

    func stop() async { await process.stop() }
}

extension BrowseLine {
    var isIPv4: Bool { protocolName == "IPv4" }
}
