import Primitives

/// The XOR metric between two key-space points: symmetric, unidirectional, and with
/// `d(x, y) = 0` only for `x = y`. Compared as a 256-bit unsigned integer.
public struct Distance: Hashable, Comparable, Sendable {
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public static func < (a: Distance, b: Distance) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    /// Number of leading zero bits (256 for distance zero). Two ids whose distance has `n`
    /// leading zeros share an `n`-bit prefix, which is what bucket indices are made of.
    public var leadingZeroBitCount: Int {
        if w0 != 0 { return w0.leadingZeroBitCount }
        if w1 != 0 { return 64 + w1.leadingZeroBitCount }
        if w2 != 0 { return 128 + w2.leadingZeroBitCount }
        if w3 != 0 { return 192 + w3.leadingZeroBitCount }
        return 256
    }
}

/// The XOR metric on key-space points, and the bit-level helpers bucket indices and
/// refreshes are made of.
extension NodeID {
    /// The XOR distance between two points.
    public func distance(to other: NodeID) -> Distance {
        Distance(w0: w0 ^ other.w0, w1: w1 ^ other.w1, w2: w2 ^ other.w2, w3: w3 ^ other.w3)
    }

    /// The bit at `index` (0 = most significant).
    public func bit(_ index: Int) -> Bool {
        let word = [w0, w1, w2, w3][index / 64]
        return (word >> UInt64(63 - index % 64)) & 1 == 1
    }

    /// `self` with bit `index` flipped and every less significant bit randomized: a random
    /// point whose distance to `self` has exactly `index` leading zero bits (bucket refresh).
    public func randomPoint(sharingPrefix index: Int, using rng: inout some RandomNumberGenerator) -> NodeID {
        var d = [UInt64](repeating: 0, count: 4)
        for i in 0..<4 { d[i] = rng.next() }
        // Clear the shared prefix bits, set the differing bit.
        for bitIndex in 0...index {
            let word = bitIndex / 64, shift = UInt64(63 - bitIndex % 64)
            if bitIndex == index { d[word] |= 1 << shift } else { d[word] &= ~(1 << shift) }
        }
        return NodeID(w0: w0 ^ d[0], w1: w1 ^ d[1], w2: w2 ^ d[2], w3: w3 ^ d[3])
    }
}
