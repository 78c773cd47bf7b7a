/// The loss scenario's arithmetic: a datagram between two islands with loss on both WAN
/// links passes two lossy rules (out of one island, into the other).
public enum LossPlan {
    /// The chance a datagram between the islands is lost, with `percent` % on each link.
    public static func pathLoss(percent: Int) -> Double {
        1 - (1 - Double(percent) / 100) * (1 - Double(percent) / 100)
    }

    /// The share of services that must cross: 99 % up to 5 % loss, 95 % up to 20 %, and no
    /// target above.
    public static func requiredCrossing(percent: Int) -> Double {
        percent <= 5 ? 0.99 : percent <= 20 ? 0.95 : 0
    }
}

/// The soak's service flapping: each flapping name has one home host, so a name withdrawn
/// on one island is never published at once on another, where it would meet its own import
/// and avahi-publish would rename it.
public enum FlapPlan {
    /// `Flap <n>` and its home host: islands 1, 2, 3 in turn, hosts 2 and 3 in turn.
    public static func flapper(_ n: Int) -> (name: String, island: Int, host: Int) {
        ("Flap \(n)", 1 + n % 3, 2 + n / 3 % 2)
    }
}

/// A small seeded generator (SplitMix64): the soak's choices replay from `--seed`.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
