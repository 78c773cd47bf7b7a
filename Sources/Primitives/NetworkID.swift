/// Separates meshes: every message carries it and a node drops messages of another
/// network. Derived from a network name (first 8 bytes of its SHA-256).
public struct NetworkID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { String(rawValue, radix: 16) }
}
