import Primitives

/// Names an island — the gateways of one link — across leader changes and restarts.
/// The first leader draws it at random; every member learns it from the leader's
/// heartbeats and keeps it in its state directory.
public struct IslandID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static func random(using rng: inout some RandomNumberGenerator) -> IslandID {
        IslandID(rawValue: rng.next())
    }

    /// Sixteen hex digits.
    public init?(_ text: String) {
        guard text.count == 16, let value = UInt64(text, radix: 16) else { return nil }
        rawValue = value
    }

    public var description: String {
        let digits = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public static func < (a: IslandID, b: IslandID) -> Bool { a.rawValue < b.rawValue }
}

/// What a gateway is to its island.
public enum Role: String, Hashable, Sendable, CaseIterable {
    /// Listening or electing: follows nobody yet.
    case candidate
    case follower
    /// Speaks for the island: exports, imports, meets other islands' leaders.
    case leader
}
