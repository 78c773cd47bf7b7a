/// Appends big-endian fields to a byte array.
struct ByteWriter {
    var buffer: [UInt8] = []

    init(capacity: Int = 64) { buffer.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { buffer.append(v) }
    mutating func u16(_ v: UInt16) { buffer.append(UInt8(v >> 8)); buffer.append(UInt8(truncatingIfNeeded: v)) }
    mutating func u32(_ v: UInt32) { for s in stride(from: 24, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    mutating func u64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    mutating func bytes(_ b: [UInt8]) { buffer.append(contentsOf: b) }
    mutating func id(_ id: NodeID) { u64(id.w0); u64(id.w1); u64(id.w2); u64(id.w3) }
}

/// Reads big-endian fields from a byte buffer, failing with `.truncated` past its end.
/// Every length is checked against what is left before anything is allocated.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func need(_ n: Int) throws(WireRejection) {
        guard n >= 0, remaining >= n else { throw .truncated }
    }
    mutating func u8() throws(WireRejection) -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }
    mutating func u16() throws(WireRejection) -> UInt16 { try integer() }
    mutating func u32() throws(WireRejection) -> UInt32 { try integer() }
    mutating func u64() throws(WireRejection) -> UInt64 { try integer() }

    private mutating func integer<T: FixedWidthInteger & UnsignedInteger>() throws(WireRejection) -> T {
        let size = T.bitWidth / 8
        try need(size)
        var v: T = 0
        for i in 0..<size { v = v << 8 | T(bytes[offset + i]) }
        offset += size
        return v
    }
    mutating func take(_ n: Int) throws(WireRejection) -> [UInt8] {
        try need(n)
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }
    mutating func id() throws(WireRejection) -> NodeID {
        NodeID(w0: try u64(), w1: try u64(), w2: try u64(), w3: try u64())
    }
}
