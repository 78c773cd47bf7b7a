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
