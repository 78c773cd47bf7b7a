import NIOCore

/// Holds what a TCP connection reads until its stream is accepted, then lets it through.
///
/// The relay keeps such a connection's `autoRead` off until the exporting leader's reply,
/// so no byte can overtake it; but NIO still reads a connection through to its end when
/// the peer shuts its output (a client that sent its whole request at once, a service that
/// answered and closed), whatever `autoRead` says. This handler, first in the pipeline,
/// keeps those bytes and the end, and hands them on, in order, on `release`. What it holds
/// is bounded by the socket's receive buffer: nothing more is read before `release`.
final class InboundHold: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    /// Fired into the pipeline once the handlers after this one are in place.
    struct Release: Sendable {}

    private var held: [NIOAny] = []
    private var heldEnd = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        held.append(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            heldEnd = true
        case is Release:
            for data in held { context.fireChannelRead(data) }
            if !held.isEmpty { context.fireChannelReadComplete() }
            if heldEnd { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
            held = []
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }
}
