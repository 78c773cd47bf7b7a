import DNSSD
import Synchronization

/// A long-running `avahi-browse -rpk` on one testbed host (of one service type, or of every
/// type), feeding a `BrowseView` with every line and the instant it arrived.
public final class BrowseWatcher: Sendable {
    private final class State: Sendable {
        let view = Mutex(BrowseView())
    }

    public let host: HostRef
    private let process: BackgroundProcess
    private let state = State()
    private let reader: Task<Void, Never>

    /// Starts watching `type` (`_ipp._tcp`) on `host`; every type with `type` nil (`-a`).
    public init(_ bed: Testbed, _ host: HostRef, type: String?) throws {
        self.host = host
        process = try bed.spawn(host, ["avahi-browse"] + (type.map { ["-rpk", $0] } ?? ["-arpk"]))
        let (state, lines) = (self.state, process.lines)
        reader = Task {
            for await text in lines {
                // Lines of services whose names or records are not valid DNS-SD are skipped.
                guard let line = try? BrowseLine(parsing: text) else { continue }
                let now = ContinuousClock.now
                state.view.withLock { $0.record(line, at: now) }
            }
        }
    }

    deinit { reader.cancel() }

    /// The view so far (a copy).
    public var view: BrowseView { state.view.withLock { $0 } }

    /// Every line so far, with when it arrived.
    public var all: [BrowseView.Event] { state.view.withLock { $0.events } }

    /// The resolved services present now.
    public var present: [BrowseLine] { state.view.withLock { $0.present } }

    /// When the first line at or after `start` that satisfies `predicate` arrived.
    public func first(after start: ContinuousClock.Instant, where predicate: (BrowseLine) -> Bool) -> ContinuousClock.Instant? {
        state.view.withLock { $0.first(after: start, where: predicate) }
    }

    public func stop() async { await process.stop() }
}

extension BrowseLine {
    public var isIPv4: Bool { protocolName == "IPv4" }
}
