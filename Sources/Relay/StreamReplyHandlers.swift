import NIOCore

/// Exporting side: sends the `StreamReply` as soon as the SSH channel is open. Accepted, it
/// then lets the service's connection start reading (held until now, by `autoRead` off and
/// `InboundHold`, so no byte of the service overtakes the reply); refused, it closes the
/// channel once the reply is written.
final class ReplyWriter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reply: StreamReply
    private let service: Channel?

    /// - Parameter service: the LAN channel to start reading once the reply is out.
    init(_ reply: StreamReply, service: Channel?) {
        self.reply = reply
        self.service = service
    }

    func channelActive(context: ChannelHandlerContext) {
        let written = context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: reply.bytes)))
        switch reply {
        case .accepted:
            if let service {
                // A TCP service's `InboundHold` turns reading on; a UDP socket has none.
                service.pipeline.fireUserInboundEventTriggered(InboundHold.Release())
                service.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in service.close(promise: nil) }
            }
        case .refused:
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
        context.fireChannelActive()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Importing side: takes the exporting leader's `StreamReply` off the front of the
/// channel, completes `answered` with it, and passes every later byte on. A refusal, an
/// unreadable reply or a channel closed before the reply closes the stream.
final class ReplyReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let answered: EventLoopPromise<StreamReply>
    private var first: UInt8?
    private var done = false

    init(answered: EventLoopPromise<StreamReply>) { self.answered = answered }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        while !done, let byte = bytes.readInteger(as: UInt8.self) {
            guard let first else { self.first = byte; continue }
            done = true
            let reply = StreamReply(bytes: (first, byte))
            answered.succeed(reply)
            guard reply == .accepted else { return context.close(promise: nil) }
        }
        if done, bytes.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(bytes)) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            answered.succeed(.refused(.tunnelUnavailable))
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if !done {
            done = true
            answered.succeed(.refused(.tunnelUnavailable))
        }
    }
}
