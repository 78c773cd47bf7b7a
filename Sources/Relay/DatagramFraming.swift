import NIOCore

/// How UDP datagrams travel inside an SSH channel: each one prefixed by its length as a
/// big-endian UInt16 (a UDP payload is at most 65,507 bytes, so every datagram fits; an
/// empty datagram is a zero length). One channel carries one flow, so no address travels.
enum DatagramFraming {
    static let headerBytes = 2

    /// The frame of one datagram; nil for a payload too long to frame (never from UDP).
    static func frame(_ payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard payload.readableBytes <= Int(UInt16.max) else { return nil }
        var out = allocator.buffer(capacity: headerBytes + payload.readableBytes)
        out.writeInteger(UInt16(payload.readableBytes))
        out.writeImmutableBuffer(payload)
        return out
    }

    /// Takes the next whole datagram off the front of `buffer`; nil until one is complete.
    static func nextDatagram(from buffer: inout ByteBuffer) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= headerBytes + Int(length)
        else { return nil }
        buffer.moveReaderIndex(forwardBy: headerBytes)
        return buffer.readSlice(length: Int(length))
    }
}

/// Splits an SSH channel's bytes back into the datagrams `DatagramFraming` framed.
struct DatagramFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let datagram = DatagramFraming.nextDatagram(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(datagram))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at the end of a flow is a datagram that never fully arrived: drop it.
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.clear()
        return .needMoreData
    }
}
