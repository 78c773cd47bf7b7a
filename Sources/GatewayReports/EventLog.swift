import Foundation
import Gateway
import Z2ZAPI

/// The gateway's recent events in a bounded ring: the last `capacity` are kept, older ones
/// are overwritten. Sequence numbers keep counting across the overwrite, so a reader that
/// asks for events after N learns from the first sequence it gets whether it missed some.
///
/// Each event keeps the fact it was made from (`GatewayEvents`), so `explain` asks typed
/// questions ("when did this service leave the link?") instead of reading messages back.
/// Fed by the driver; read by the API (`/events`, the dashboard's stream, `explain`) and metrics.
///
/// Rejections come in floods (forged or replayed datagrams, a misconfigured neighbour), and
/// one entry each would push out everything a person needs to diagnose (issue 18): per
/// reason, the first rejection of a `rejectionWindow` is kept, the others are counted, and
/// the count is kept as one summary entry when a rejection of that reason arrives after the
/// window (or `flushRejections` finds it over). Metrics count every rejection from the
/// facts themselves, not from these entries.
public struct EventLog: Sendable {
    public static let defaultCapacity = 512
    /// How long one kept rejection stands for the others of its reason.
    public static let rejectionWindow: TimeInterval = 10

    /// A reason's current window: when its kept rejection was, how many were not kept since.
    private struct RejectionWindow: Sendable {
        var start: Date
        var suppressed: Int
    }

    /// One kept event and the fact it says, if it came from one (an adapter's failure does not).
    public struct Entry: Hashable, Sendable {
        public var event: GatewayEvent
        public var fact: GatewayFact?
    }

    public let capacity: Int
    private var ring: [Entry] = []
    /// Where the oldest event is once the ring is full.
    private var head = 0
    /// The newest sequence number handed out (0: none yet).
    public private(set) var last: UInt64 = 0
    private var rejectionWindows: [String: RejectionWindow] = [:]

    public init(capacity: Int = EventLog.defaultCapacity) {
        self.capacity = max(1, capacity)
        ring.reserveCapacity(self.capacity)
    }

    /// Appends the event a fact makes (`GatewayEvents.event(for:)`); nil, and nothing kept,
    /// for a fact that is no news (the gateway's own publications not being exported) or a
    /// rejection counted in its reason's window. See `appendAll` for every event kept.
    @discardableResult
    public mutating func append(_ fact: GatewayFact, at time: Date = Date()) -> GatewayEvent? {
        appendAll(fact, at: time).last
    }

    /// Appends what a fact makes, oldest first: its event, preceded by the summary of its
    /// reason's last window when it opens a new one; nothing when it is no news or counted.
    public mutating func appendAll(_ fact: GatewayFact, at time: Date = Date()) -> [GatewayEvent] {
        guard let draft = GatewayEvents.event(for: fact) else { return [] }
        guard case .rejected(let reason, _) = fact else { return [keep(draft, fact: fact, at: time)] }
        var kept: [GatewayEvent] = []
        if let window = rejectionWindows[reason] {
            guard time.timeIntervalSince(window.start) >= Self.rejectionWindow else {
                rejectionWindows[reason]?.suppressed += 1
                return []
            }
            if let summary = summary(of: reason, window, at: time) { kept.append(summary) }
        }
        rejectionWindows[reason] = RejectionWindow(start: time, suppressed: 0)
        kept.append(keep(draft, fact: fact, at: time))
        return kept
    }

    /// Keeps the summaries of rejection windows that are over by `time` (the driver calls
    /// this now and then, so the count of a flood that stopped is not left unsaid).
    public mutating func flushRejections(at time: Date = Date()) -> [GatewayEvent] {
        var kept: [GatewayEvent] = []
        for reason in rejectionWindows.keys.sorted() {
            guard let window = rejectionWindows[reason], time.timeIntervalSince(window.start) >= Self.rejectionWindow
            else { continue }
            rejectionWindows[reason] = nil
            if let summary = summary(of: reason, window, at: time) { kept.append(summary) }
        }
        return kept
    }

    private mutating func summary(of reason: String, _ window: RejectionWindow, at time: Date) -> GatewayEvent? {
        guard window.suppressed > 0 else { return nil }
        let seconds = Int(Self.rejectionWindow)
        let start = ISO8601DateFormatter().string(from: window.start)
        return keep(GatewayEvents.Draft(kind: .rejected, reason: reason,
                                        message: "\(window.suppressed) more rejected (\(reason)) in the \(seconds) s from \(start)"),
                    fact: nil, at: time)
    }

    /// Appends an event no machine fact stands behind (a failed operation of the adapter).
    @discardableResult
    public mutating func append(_ kind: GatewayEvent.Kind, subject: String? = nil, island: IslandRef? = nil,
                                reason: String? = nil, message: String, at time: Date = Date()) -> GatewayEvent {
        keep(GatewayEvents.Draft(kind: kind, subject: subject, island: island, reason: reason, message: message),
             fact: nil, at: time)
    }

    private mutating func keep(_ draft: GatewayEvents.Draft, fact: GatewayFact?, at time: Date) -> GatewayEvent {
        last += 1
        let event = GatewayEvent(sequence: last, time: time, kind: draft.kind, subject: draft.subject, island: draft.island,
                                 reason: draft.reason, message: draft.message)
        let entry = Entry(event: event, fact: fact)
        if ring.count < capacity {
            ring.append(entry)
        } else {
            ring[head] = entry
            head = (head + 1) % capacity
        }
        return event
    }

    /// Every kept entry, oldest first.
    public var entries: [Entry] { Array(ring[head...] + ring[..<head]) }

    /// Every kept event, oldest first.
    public var events: [GatewayEvent] { entries.map(\.event) }

    /// The kept events newer than `sequence`, oldest first.
    public func events(after sequence: UInt64) -> [GatewayEvent] {
        guard sequence < last else { return [] }
        let newer = Int(min(UInt64(ring.count), last - sequence))
        return Array(events.suffix(newer))
    }

    /// The newest kept fact that `matches`, with when it was stated.
    public func latest(where matches: (GatewayFact) -> Bool) -> (time: Date, fact: GatewayFact)? {
        for entry in entries.reversed() {
            if let fact = entry.fact, matches(fact) { return (entry.event.time, fact) }
        }
        return nil
    }
}
