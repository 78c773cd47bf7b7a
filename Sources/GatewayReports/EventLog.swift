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
public struct EventLog: Sendable {
    public static let defaultCapacity = 512

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

    public init(capacity: Int = EventLog.defaultCapacity) {
        self.capacity = max(1, capacity)
        ring.reserveCapacity(self.capacity)
    }

    /// Appends the event a fact makes (`GatewayEvents.event(for:)`); nil, and nothing kept,
    /// for a fact that is no news (the gateway's own publications not being exported).
    @discardableResult
    public mutating func append(_ fact: GatewayFact, at time: Date = Date()) -> GatewayEvent? {
        guard let draft = GatewayEvents.event(for: fact) else { return nil }
        return keep(draft, fact: fact, at: time)
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
