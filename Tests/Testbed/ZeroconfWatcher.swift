import Foundation
import Synchronization

/// A long-running `Deploy/zeroconf-browse` on one testbed host: what a python-zeroconf
/// client (Home Assistant's mDNS stack) on that LAN sees of one service type, with the
/// instant each line arrived. The cross-stack counterpart of `BrowseWatcher`.
public final class ZeroconfWatcher: Sendable {
    public struct Event: Sendable {
        /// `resolved`, `unresolved` or `removed`.
        public let kind: String
        public let name: String
        public let port: Int?
        public let addresses: [String]
        public let at: ContinuousClock.Instant
    }

    private final class State: Sendable {
        let events = Mutex<[Event]>([])
        let ready = Mutex(false)
    }

    public let host: HostRef
    private let process: BackgroundProcess
    private let state = State()
    private let reader: Task<Void, Never>

    /// Starts browsing `type` (`_ipp._tcp`) on `host` and waits until the browser runs.
    public init(_ bed: Testbed, _ host: HostRef, type: String) async throws {
        self.host = host
        let script = Repository.root.appendingPathComponent("Deploy/zeroconf-browse").path
        process = try bed.spawn(host, ["/usr/bin/python3", "-u", script, type])
        let (state, lines) = (self.state, process.lines)
        reader = Task {
            for await text in lines {
                let now = ContinuousClock.now
                let fields = text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard let kind = fields.first else { continue }
                if kind == "ready" { state.ready.withLock { $0 = true }; continue }
                guard fields.count >= 2 else { continue }
                let event = Event(kind: kind, name: fields[1], port: fields.count > 2 ? Int(fields[2]) : nil,
                                  addresses: fields.count > 3 ? fields[3].split(separator: ",").map(String.init) : [],
                                  at: now)
                state.events.withLock { $0.append(event) }
            }
        }
        try await poll(timeout: .seconds(20), every: .milliseconds(50), "python-zeroconf browsing \(type) on \(host)") {
            self.state.ready.withLock { $0 }
        }
    }

    deinit { reader.cancel() }

    /// Every event so far.
    public var all: [Event] { state.events.withLock { $0 } }

    /// The first event at or after `start` that satisfies `predicate`.
    public func first(after start: ContinuousClock.Instant, where predicate: (Event) -> Bool) -> Event? {
        state.events.withLock { events in events.first { $0.at >= start && predicate($0) } }
    }

    public func stop() async { await process.stop() }
}
