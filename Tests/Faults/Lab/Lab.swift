import DNSSD
import Foundation
import Synchronization
import Testbed

#if canImport(Glibc)
import Glibc
#endif

/// The z2zd build under test: `z2zd` and `z2z` from one directory.
public struct Binaries: Sendable, Equatable {
    public var z2zd: String
    public var z2z: String

    public init(directory: String) {
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        z2zd = absolute + "/z2zd"
        z2z = absolute + "/z2z"
    }

    /// `--bin`, else the first of `candidates` that holds an executable z2zd.
    public static func find(explicit: String?, candidates: [String], isExecutable: (String) -> Bool) -> Binaries? {
        if let explicit { return Binaries(directory: explicit) }
        return candidates.first { isExecutable($0 + "/z2zd") }.map(Binaries.init(directory:))
    }
}

/// A scenario's world: its testbed, the build under test, everything it started there, and
/// the report it prints to. Scenarios act through it; it holds no decision of its own.
public final class Lab: Sendable {
    /// The service type every scenario publishes and watches.
    public static let type = "_zfault._tcp"

    public let bed: Testbed
    public let binaries: Binaries
    private let output: Output

    init(bed: Testbed, binaries: Binaries, output: Output) {
        self.bed = bed
        self.binaries = binaries
        self.output = output
    }

    // MARK: output

    /// `[12:34:56] text`: progress and per-trial results.
    public func say(_ text: String) { output.say(text) }

    /// A line as is (the loops' checks, the soak's samples).
    public func print(_ line: String) { output.print(line) }

    /// Records a figure and prints its `FIGURE` line.
    public func figure(_ figure: Figure) { output.record(figure) }

    // MARK: what runs in the testbed

    /// Starts a z2zd on `host` (see `GatewayProcess`).
    public func gateway(_ host: HostRef, island: String, seed: HostRef? = nil, priority: Int = 100,
                        wrapper: [String] = []) throws -> GatewayProcess {
        try GatewayProcess(lab: self, host: host, island: island, seed: seed, priority: priority, wrapper: wrapper)
    }

    /// Watches every service type on `host` with `avahi-browse -arpk`.
    public func watch(_ host: HostRef) throws -> BrowseWatcher {
        try BrowseWatcher(bed, host, type: nil)
    }

    /// `avahi-publish -s NAME TYPE PORT [TXT...]` on `host`; not waited for.
    public func publish(_ host: HostRef, _ name: String, type: String = Lab.type, port: Int = 9000,
                        txt: [String] = []) throws -> Publisher {
        Publisher(name: name, host: host,
                  process: try bed.spawn(host, ["avahi-publish", "-s", name, type, "\(port)"] + txt))
    }

    /// What `watchers` see now, by host.
    public func views(_ watchers: [BrowseWatcher]) -> [HostView] {
        watchers.map { HostView(host: "\($0.host)", view: $0.view) }
    }

    /// Whether every watcher sees exactly `truth` (of `Lab.type`, over IPv4).
    public func viewsEqual(_ watchers: [BrowseWatcher], _ truth: Set<String>) -> Bool {
        ViewCheck.allEqual(views(watchers), truth, type: Lab.type)
    }

    /// Where each watcher's view is off `truth`, or `all equal`.
    public func describe(_ watchers: [BrowseWatcher], _ truth: Set<String>) -> String {
        ViewCheck.describe(views(watchers), truth, type: Lab.type)
    }

    /// The first alive gateway that says it leads.
    public func leader(of gateways: [GatewayProcess]) async -> GatewayProcess? {
        for gateway in gateways where gateway.isAlive {
            if await gateway.role() == "leader" { return gateway }
        }
        return nil
    }

    /// Each gateway's role and the test services it lists, for failure messages.
    public func diagnose(_ gateways: [GatewayProcess]) async {
        for gateway in gateways {
            guard gateway.isAlive else {
                say("  \(gateway.host): not running")
                continue
            }
            let listed = (await gateway.services() ?? []).filter { $0.type.hasPrefix(Lab.type) }
                .map { "\($0.origin ?? "None"):\($0.name)@\($0.islandName ?? "None")" }
            say("  \(gateway.host) (\(gateway.island), \(await gateway.role() ?? "None")): \(Format.list(listed))")
        }
    }
}

/// One `avahi-publish` of one service; `stop()` withdraws it (avahi says goodbye).
public struct Publisher: Sendable {
    public let name: String
    public let host: HostRef
    let process: BackgroundProcess

    public func stop() async { await process.stop(grace: .seconds(5)) }
}

/// Where a run's lines go (stdout, as they happen) and the report they add up to.
final class Output: Sendable {
    private let report: Mutex<Report>

    init(scenario: String) {
        report = Mutex(Report(scenario: scenario))
    }

    var snapshot: Report { report.withLock { $0 } }

    func say(_ text: String) { print("[\(Self.clock())] \(text)") }

    func print(_ line: String) { Self.write(line) }

    /// A line on stdout at once (unbuffered: a scenario runs for minutes, and a log or a
    /// pipe should see every line when it happens).
    static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    func record(_ figure: Figure) {
        report.withLock { $0.record(figure) }
        print(figure.line)
    }

    /// `HH:MM:SS`, local time.
    static func clock() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
