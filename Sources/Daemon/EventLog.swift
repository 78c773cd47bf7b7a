import Foundation
import Z2ZAPI

/// The gateway's recent events in a bounded ring: the last `capacity` are kept, older ones
/// are overwritten. Sequence numbers keep counting across the overwrite, so a reader that
/// asks for events after N learns from the first sequence it gets whether it missed some.
///
/// Fed by the driver (transitions, services seen and gone, exports, imports, rejections,
/// failures); read by the API (`/events`, the dashboard's stream, `explain`) and metrics.
public struct EventLog: Sendable {
    public static let defaultCapacity = 512

    public let capacity: Int
    private var ring: [GatewayEvent] = []
    /// Where the oldest event is once the ring is full.
    private var head = 0
    /// The newest sequence number handed out (0: none yet).
    public private(set) var last: UInt64 = 0

    public init(capacity: Int = EventLog.defaultCapacity) {
        self.capacity = max(1, capacity)
        ring.reserveCapacity(self.capacity)
    }

    /// Appends an event, overwriting the oldest when full; returns it with its sequence number.
    @discardableResult
    public mutating func append(_ kind: GatewayEvent.Kind, subject: String? = nil, island: IslandRef? = nil,
                                reason: String? = nil, message: String, at time: Date = Date()) -> GatewayEvent {
        last += 1
        let event = GatewayEvent(sequence: last, time: time, kind: kind, subject: subject, island: island, reason: reason,
                                 message: message)
        if ring.count < capacity {
            ring.append(event)
        } else {
            ring[head] = event
            head = (head + 1) % capacity
        }
        return event
    }

    /// Every kept event, oldest first.
    public var events: [GatewayEvent] { Array(ring[head...] + ring[..<head]) }

    /// The kept events newer than `sequence`, oldest first.
    public func events(after sequence: UInt64) -> [GatewayEvent] {
        guard sequence < last else { return [] }
        let newer = Int(min(UInt64(ring.count), last - sequence))
        return Array(events.suffix(newer))
    }

    /// The newest kept event about `subject` (of one of `kinds`, when given), if any.
    public func latest(about subject: String, kinds: Set<GatewayEvent.Kind>? = nil) -> GatewayEvent? {
        let lowered = subject.lowercased()
        return events.last { event in
            event.subject?.lowercased() == lowered && (kinds?.contains(event.kind) ?? true)
        }
    }
}
