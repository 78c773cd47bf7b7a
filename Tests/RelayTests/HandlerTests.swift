import NIOCore
import NIOEmbedded
import Testing
@testable import Relay

/// The thin handlers on `EmbeddedChannel`: framing and the reply at a stream's start.
struct HandlerTests {
    @Test func datagramsSurviveFramingWhateverTheChunking() throws {
        let allocator = ByteBufferAllocator()
        let datagrams = ["", "a", String(repeating: "z", count: 1400)].map { allocator.buffer(string: $0) }
        var stream = allocator.buffer(capacity: 2000)
        for d in datagrams { var f = DatagramFraming.frame(d, allocator: allocator)!; stream.writeBuffer(&f) }
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(DatagramFrameDecoder()))
        // One byte at a time: every split point of every frame.
        while let byte = stream.readSlice(length: 1) { try channel.writeInbound(byte) }
        for d in datagrams { #expect(try channel.readInbound(as: ByteBuffer.self) == d) }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish()
    }

    @Test func aFrameLongerThanAUDPDatagramIsNotFramed() {
        let allocator = ByteBufferAllocator()
        #expect(DatagramFraming.frame(allocator.buffer(repeating: 0, count: 65_536), allocator: allocator) == nil)
        #expect(DatagramFraming.frame(allocator.buffer(repeating: 0, count: 65_535), allocator: allocator)?.readableBytes == 65_537)
    }

    @Test func theReplyIsTakenOffTheStreamAndTheBytesAfterItPassOn() throws {
        let channel = EmbeddedChannel()
        let answered = channel.eventLoop.makePromise(of: StreamReply.self)
        try channel.pipeline.syncOperations.addHandler(ReplyReader(answered: answered))
        try channel.writeInbound(ByteBuffer(bytes: [0]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: [0, 0x41, 0x42]))
        #expect(try answered.futureResult.wait() == .accepted)
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [0x41, 0x42]))
        try channel.writeInbound(ByteBuffer(bytes: [0x43]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [0x43]))
        _ = try channel.finish()
    }

    @Test func aRefusalClosesTheStreamAndAnUnansweredCloseIsATunnelLoss() throws {
        let refused = EmbeddedChannel()
        let answer = refused.eventLoop.makePromise(of: StreamReply.self)
        try refused.pipeline.syncOperations.addHandler(ReplyReader(answered: answer))
        try refused.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try refused.writeInbound(ByteBuffer(bytes: [1, RelayRefusal.notExported.code, 0x41]))
        #expect(try answer.futureResult.wait() == .refused(.notExported))
        #expect(!refused.isActive)
        #expect(try refused.readInbound(as: ByteBuffer.self) == nil)

        let dropped = EmbeddedChannel()
        let lost = dropped.eventLoop.makePromise(of: StreamReply.self)
        try dropped.pipeline.syncOperations.addHandler(ReplyReader(answered: lost))
        try dropped.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try dropped.close().wait()
        #expect(try lost.futureResult.wait() == .refused(.tunnelUnavailable))
    }

    @Test func theExportingSideWritesItsReplyFirstAndClosesAfterARefusal() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ReplyWriter(.refused(.revoked), service: nil))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, RelayRefusal.revoked.code]))
        #expect(!channel.isActive)
    }
}
