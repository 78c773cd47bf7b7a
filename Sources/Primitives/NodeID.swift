/// A 256-bit point in the DHT's key space: a node's id (SHA-256 of its Ed25519 public
/// key) or a lookup target (a record key's point). Island heartbeats, the rendezvous and
/// the gateway name nodes by it too, which is why it lives here and not in `Kademlia`
/// (which adds the XOR metric, `Distance.swift`).
///
/// Stored as four big-endian 64-bit limbs so XOR and comparisons are four word operations.
/// This file is free of crypto so the wire codec compiles alone for fuzzing; hashing lives
/// in `NodeID+Crypto.swift`.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3)
    }

    public static let byteCount = 32
    public static let zero = NodeID(w0: 0, w1: 0, w2: 0, w3: 0)

    /// Reads 32 big-endian bytes; `bytes` must hold exactly 32.
    public init<C: Collection>(bytes: C) where C.Element == UInt8 {
        precondition(bytes.count == 32, "a NodeID is 32 bytes")
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, b) in bytes.enumerated() { words[i / 8] = words[i / 8] << 8 | UInt64(b) }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) } }
        return out
    }

    public static func random(using rng: inout some RandomNumberGenerator) -> NodeID {
        NodeID(w0: rng.next(), w1: rng.next(), w2: rng.next(), w3: rng.next())
    }

    public static func < (a: NodeID, b: NodeID) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    /// The first 8 hex digits, enough to tell nodes apart in logs.
    public var description: String {
        let hex = String(w0, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex.prefix(8)
    }

    public var hex: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
