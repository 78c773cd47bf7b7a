/// Where a record lives in the DHT: a 256-bit key, SHA-256 over (network id, namespace,
/// name) — see `RecordKey.make(network:namespace:name:)`. Its key-space point is the
/// lookup target whose k closest nodes hold the record's values.
public struct RecordKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var point: NodeID

    public init(point: NodeID) { self.point = point }

    public static func < (a: RecordKey, b: RecordKey) -> Bool { a.point < b.point }
    public var description: String { "key:\(point)" }
}
