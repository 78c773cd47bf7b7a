// The byte reader and writer under every binary codec of z2z: DHT frames (`WireCodec`),
// island heartbeats, service records and island directory entries. Everything is
// `@inlinable` because decoding runs once per datagram and the codecs live in other
// modules: a call per byte read across a module boundary would cost more than the read.

/// Appends big-endian fields to a byte array.
public struct ByteWriter {
    public var buffer: [UInt8] = []

    @inlinable public init(capacity: Int = 64) { buffer.reserveCapacity(capacity) }

    @inlinable public mutating func u8(_ v: UInt8) { buffer.append(v) }
    @inlinable public mutating func u16(_ v: UInt16) { buffer.append(UInt8(v >> 8)); buffer.append(UInt8(truncatingIfNeeded: v)) }
    @inlinable public mutating func u32(_ v: UInt32) { for s in stride(from: 24, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) } }
    @inlinable public mutating func u64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    @inlinable public mutating func bytes(_ b: [UInt8]) { buffer.append(contentsOf: b) }
    @inlinable public mutating func id(_ id: NodeID) { u64(id.w0); u64(id.w1); u64(id.w2); u64(id.w3) }
}

/// What goes wrong reading any strict binary format, whatever the format: a field runs past
/// the end, or bytes are left after the last one. Each codec reports these as its own
/// rejection (`ByteReadRejection`), next to the reasons only it has (bad magic, unknown
/// version, a count above its limit...).
public enum ByteReadError: Error, Hashable, Sendable {
    /// A field (or a count of fields, checked before allocating) needs more bytes than are left.
    case truncated
    /// This many bytes were left after the last field.
    case trailingBytes(Int)

    /// The metric label, the same in every codec.
    public var reason: String {
        switch self {
        case .truncated: "truncated"
        case .trailingBytes: "trailing_bytes"
        }
    }
}

/// A codec's rejection type, able to stand for the reader's shared failures: a codec reads
/// with a `ByteReader<ItsRejection>` and throws only its own type, so its `reason` strings
/// (the metric labels) stay its own.
public protocol ByteReadRejection: Error {
    init(_ error: ByteReadError)
}

extension ByteReadError: ByteReadRejection {
    @inlinable public init(_ error: ByteReadError) { self = error }
}

/// Reads big-endian fields from a byte buffer, failing with `Failure(.truncated)` past its
/// end and, at `expectEnd()`, with `Failure(.trailingBytes)` before it. Check a length
/// against what is left (`need`) before allocating anything for it.
public struct ByteReader<Failure: ByteReadRejection> {
    @usableFromInline let bytes: [UInt8]
    @usableFromInline var offset: Int = 0

    @inlinable public init(_ bytes: [UInt8]) { self.bytes = bytes }

    @inlinable public var remaining: Int { bytes.count - offset }

    /// Throws `.truncated` unless at least `n` more bytes are there.
    @inlinable public func need(_ n: Int) throws(Failure) {
        guard n >= 0, remaining >= n else { throw Failure(.truncated) }
    }

    /// Throws `.trailingBytes` unless every byte has been read: the formats are strict.
    @inlinable public func expectEnd() throws(Failure) {
        guard remaining == 0 else { throw Failure(.trailingBytes(remaining)) }
    }

    @inlinable public mutating func u8() throws(Failure) -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }
    @inlinable public mutating func u16() throws(Failure) -> UInt16 { try integer() }
    @inlinable public mutating func u32() throws(Failure) -> UInt32 { try integer() }
    @inlinable public mutating func u64() throws(Failure) -> UInt64 { try integer() }

    @inlinable mutating func integer<T: FixedWidthInteger & UnsignedInteger>() throws(Failure) -> T {
        let size = T.bitWidth / 8
        try need(size)
        var v: T = 0
        for i in 0..<size { v = v << 8 | T(bytes[offset + i]) }
        offset += size
        return v
    }

    @inlinable public mutating func take(_ n: Int) throws(Failure) -> [UInt8] {
        try need(n)
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    @inlinable public mutating func id() throws(Failure) -> NodeID {
        NodeID(w0: try u64(), w1: try u64(), w2: try u64(), w3: try u64())
    }
}
