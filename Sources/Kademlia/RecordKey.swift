/// Where a record lives in the DHT: a 256-bit key, SHA-256 over (network id, namespace,
/// name) — see `RecordKey.make(network:namespace:name:)`. Its key-space point is the
/// lookup target whose k closest nodes hold the record's values.
public struct RecordKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var point: NodeID

    public init(point: NodeID) { self.point = point }

    public static func < (a: RecordKey, b: RecordKey) -> Bool { a.point < b.point }
    public var description: String { "key:\(point)" }
}

/// Separates meshes: every message carries it and a node drops messages of another
/// network. Derived from a network name (first 8 bytes of its SHA-256).
public struct NetworkID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { String(rawValue, radix: 16) }
}
