import Primitives
import Testing

@Suite struct ByteIOTests {
    /// A codec's own rejection, as `ByteReader` hands the shared failures to it.
    enum ToyRejection: ByteReadRejection, Equatable {
        case shared(ByteReadError)
        init(_ error: ByteReadError) { self = .shared(error) }
    }

    @Test func fieldsWrittenBigEndianReadBack() throws {
        var w = ByteWriter()
        w.u8(0x01)
        w.u16(0x0203)
        w.u32(0x0405_0607)
        w.u64(0x0809_0A0B_0C0D_0E0F)
        w.id(NodeID(w0: 1, w1: 2, w2: 3, w3: 4))
        w.bytes([0xAA, 0xBB])
        #expect(Array(w.buffer.prefix(15)) == Array(1...15))

        var r = ByteReader<ByteReadError>(w.buffer)
        #expect(try r.u8() == 0x01)
        #expect(try r.u16() == 0x0203)
        #expect(try r.u32() == 0x0405_0607)
        #expect(try r.u64() == 0x0809_0A0B_0C0D_0E0F)
        #expect(try r.id() == NodeID(w0: 1, w1: 2, w2: 3, w3: 4))
        #expect(try r.take(2) == [0xAA, 0xBB])
        try r.expectEnd()
    }

    @Test func readingPastTheEndIsTruncatedAndReadsNothing() {
        var r = ByteReader<ToyRejection>([1, 2, 3])
        #expect(throws: ToyRejection.shared(.truncated)) { try r.u32() }
        #expect(r.remaining == 3, "a failed read consumes nothing")
        #expect(throws: ToyRejection.shared(.truncated)) { try r.take(4) }
        #expect(throws: ToyRejection.shared(.truncated)) { try r.need(-1) }
        #expect(throws: ToyRejection.shared(.truncated)) { try r.need(Int.max) }
    }

    @Test func bytesLeftAfterTheLastFieldAreTrailing() throws {
        var r = ByteReader<ToyRejection>([1, 2, 3])
        _ = try r.u8()
        #expect(throws: ToyRejection.shared(.trailingBytes(2))) { try r.expectEnd() }
    }
}
