/// One value's place under a key: its owner and the owner's value id. Replacement,
/// tombstones, limits, gets and notifications all work per slot (the DHT's records, the
/// rendezvous' values).
public struct RecordSlot: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var owner: NodeID
    public var valueID: UInt64

    public init(owner: NodeID, valueID: UInt64) {
        self.owner = owner
        self.valueID = valueID
    }

    public static func < (a: RecordSlot, b: RecordSlot) -> Bool { (a.owner, a.valueID) < (b.owner, b.valueID) }
    public var description: String { "\(owner)/\(valueID)" }
}
