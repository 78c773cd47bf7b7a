import Primitives

/// Identifies a command so its outcome can be matched; chosen by the caller.
public struct RequestID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: RequestID, b: RequestID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "#\(rawValue)" }
}

/// How a lookup went: the closest nodes that answered, and what it cost.
public struct LookupReport: Hashable, Sendable {
    public var target: NodeID
    public var closest: [Contact]
    public var hops: Int
    public var queries: Int
    public var duration: Interval
}

/// The result of a command.
public enum Outcome: Hashable, Sendable {
    /// `bootstrap` finished its self-lookup; the table holds `contacts` entries.
    case bootstrapped(contacts: Int, LookupReport)
    case lookup(LookupReport)
    /// `put` stored the record on `acks` of the `attempted` closest nodes (the local
    /// store counts when this node is among them); `rejections` counts refusals by reason.
    case put(acks: Int, attempted: Int, rejections: [RecordRejection: Int], LookupReport)
    /// The live values found under the key (newest per slot; deleted ones left out),
    /// ordered by slot.
    case get([Record], LookupReport)
    /// The subscription holds leases on `holders` nodes; its current values have been
    /// reported as `.new` notifications.
    case subscribed(holders: Int)
}

/// A change in one slot under a subscribed key, carrying the signed record so the owner can
/// verify it.
public enum ValueChange: Hashable, Sendable {
    /// A value in a slot not reported before (or reported deleted).
    case new(Record)
    /// A newer value in a slot already reported.
    case changed(Record)
    /// The owner deleted the slot's value; the tombstone is the proof.
    case deleted(Record)
    /// The slot's value ran out of lifetime without a republish.
    case expired(RecordSlot)
}

/// A notification for the node's owner about a subscribed key.
public struct SubscriptionNotification: Hashable, Sendable {
    public var key: RecordKey
    public var request: RequestID
    public var change: ValueChange
}
