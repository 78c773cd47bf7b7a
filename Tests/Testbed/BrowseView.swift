import DNSSD

/// What `avahi-browse -p` has reported on one host: every line with the instant it arrived,
/// and from those, the services present now and when one went away or came back.
///
/// A value fed by `BrowseWatcher` (or by a test, with instants of its choosing), so the
/// questions fault scenarios and integration tests ask of a host's view are answered by one
/// tested implementation. A service is one instance name, type and domain over one protocol
/// (`IPv4` or `IPv6`), whatever interface reported it. Present means resolved: its last `=`
/// line came after its last `-` line (a `+` alone does not count).
public struct BrowseView: Sendable {
    /// One line and when it arrived.
    public struct Event: Sendable, Hashable {
        public var at: ContinuousClock.Instant
        public var line: BrowseLine

        public init(at: ContinuousClock.Instant, line: BrowseLine) {
            self.at = at
            self.line = line
        }
    }

    private struct Key: Hashable, Comparable {
        var protocolName: String
        var id: ServiceID

        static func < (lhs: Key, rhs: Key) -> Bool { (lhs.protocolName, lhs.id) < (rhs.protocolName, rhs.id) }
    }

    /// Every line so far, in the order they arrived.
    public private(set) var events: [Event] = []
    private var resolved: [Key: BrowseLine] = [:]

    public init() {}

    /// Adds a line that arrived at `instant` (instants never go back: lines are recorded
    /// in the order they were read).
    public mutating func record(_ line: BrowseLine, at instant: ContinuousClock.Instant) {
        events.append(Event(at: instant, line: line))
        let key = Key(protocolName: line.protocolName, id: line.id)
        switch line.kind {
        case .resolved: resolved[key] = line
        case .removed: resolved[key] = nil
        case .added: break
        }
    }

    /// The resolved services present now, ordered by protocol and service id.
    public var present: [BrowseLine] { resolved.keys.sorted().compactMap { resolved[$0] } }

    /// Instance names of the present services of `type` (every type when nil) over `protocolName`.
    public func names(ofType type: String? = nil, over protocolName: String = "IPv4") -> Set<String> {
        Set(matching(type, protocolName).map(\.id.name.value))
    }

    /// The host name (`…local`) each present service of `type` resolved to, by instance name.
    public func hosts(ofType type: String? = nil, over protocolName: String = "IPv4") -> [String: String] {
        Dictionary(matching(type, protocolName).compactMap { line in
            line.resolution.map { (line.id.name.value, $0.host.value) }
        }, uniquingKeysWith: { first, _ in first })
    }

    /// When the first line at or after `start` that satisfies `predicate` arrived.
    public func first(after start: ContinuousClock.Instant, where predicate: (BrowseLine) -> Bool) -> ContinuousClock.Instant? {
        events.first { $0.at >= start && predicate($0.line) }?.at
    }

    /// When the first `kind` line for instance `name` over `protocolName` at or after
    /// `start` arrived.
    public func first(
        _ kind: BrowseLine.Kind, of name: String, after start: ContinuousClock.Instant, over protocolName: String = "IPv4"
    ) -> ContinuousClock.Instant? {
        first(after: start) { $0.kind == kind && $0.id.name.value == name && $0.protocolName == protocolName }
    }

    /// Whether `name` went away after `start` and was not resolved again after that: its
    /// first removal at or after `start` has no resolution after it.
    public func isAway(_ name: String, since start: ContinuousClock.Instant, over protocolName: String = "IPv4") -> Bool {
        guard let gone = first(.removed, of: name, after: start, over: protocolName) else { return false }
        return first(.resolved, of: name, after: gone, over: protocolName) == nil
    }

    /// How long `name` was missing after `start`: from its first removal to its next
    /// resolution (or to `now`, while it has not come back); zero when it never went.
    public func outage(of name: String, since start: ContinuousClock.Instant, now: ContinuousClock.Instant) -> Duration {
        guard let gone = first(.removed, of: name, after: start) else { return .zero }
        return (first(.resolved, of: name, after: gone) ?? now) - gone
    }

    private func matching(_ type: String?, _ protocolName: String) -> [BrowseLine] {
        resolved.filter { key, _ in
            key.protocolName == protocolName && (type == nil || key.id.type.description == type)
        }.sorted { $0.key < $1.key }.map(\.value)
    }
}
