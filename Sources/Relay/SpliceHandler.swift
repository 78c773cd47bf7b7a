import NIOCore

/// Copies what its channel reads into a partner channel, which may run on another event
/// loop: one of the pair of handlers that join a client's or service's TCP connection to
/// an SSH channel. Only `Channel` API crosses loops (writes, flushes, closes and the user
/// events below are thread-safe); the handler's own state stays on its loop.
///
/// Backpressure: it reads only while the partner is writable; when the partner becomes
/// writable again, the partner's handler says so with `partnerWritable`. On an SSH channel
/// this is what holds the channel's window shut, so one slow stream does not stall the
/// others in the tunnel. Endings follow `SpliceState`.
final class SpliceHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What one side of a splice tells the other, through the other's pipeline.
    enum Event: Sendable {
        /// The channel you write into can take more: read again.
        case partnerWritable
        /// Your output was shut because your partner read EOF.
        case partnerShutOutput
    }

    private let partner: Channel
    private let meter: StreamMeter
    private let direction: StreamMeter.Direction
    private var state = SpliceState()
    private var pendingRead = false
    private var lastWrite: EventLoopFuture<Void>?

    /// - Parameter direction: which way the bytes this channel reads go.
    init(partner: Channel, meter: StreamMeter, direction: StreamMeter.Direction) {
        self.partner = partner
        self.meter = meter
        self.direction = direction
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // The partner may have paused before this side existed.
        if context.channel.isWritable { partner.pipeline.fireUserInboundEventTriggered(Event.partnerWritable) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        meter.add(bytes.readableBytes, direction)
        let write = partner.write(bytes)
        // A partner that is closing (an SSH channel waiting for the peer's close) still
        // looks writable but fails every write: stop reading into it at once.
        let own = context.channel
        write.whenFailure { _ in own.close(promise: nil) }
        lastWrite = write
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner.flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if partner.isWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner.pipeline.fireUserInboundEventTriggered(Event.partnerWritable) }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case Event.partnerWritable:
            if pendingRead {
                pendingRead = false
                context.read()
            }
        case Event.partnerShutOutput:
            perform(state.partnerShutOutput(), context: context)
        case ChannelEvent.inputClosed:
            perform(state.readEOF(), context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(state.closed(), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func perform(_ actions: [SpliceState.Action], context: ChannelHandlerContext) {
        let partner = self.partner
        for action in actions {
            switch action {
            case .closeSelf:
                context.close(promise: nil)
            case .closePartnerNow:
                partner.close(promise: nil)
            case .closePartnerAfterWrites:
                afterWrites { partner.close(promise: nil) }
            case .shutPartnerOutputAfterWrites:
                afterWrites {
                    partner.close(mode: .output).whenComplete { _ in
                        partner.pipeline.fireUserInboundEventTriggered(Event.partnerShutOutput)
                    }
                }
            }
        }
    }

    /// Runs `body` once every byte this side passed to the partner is written (or failed).
    private func afterWrites(_ body: @escaping @Sendable () -> Void) {
        guard let lastWrite else { return body() }
        partner.flush()
        lastWrite.whenComplete { _ in body() }
    }
}
