import NIOCore
import SIP

/// UDP: one datagram is one message; responses go back to the datagram's source address and port.
///
/// Deviation: RFC 3261 §18.2.2 sends to the Via sent-by port unless `rport` is present; this
/// handler always answers the source port (RFC 3581 behaviour), which is the same for UAs that
/// send from their listening port and the only one that works for UAs behind NAT.
final class SIPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let core: SIPServerCore

    init(core: SIPServerCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        let remote = envelope.remoteAddress
        let channel = context.channel
        let bytes = Array(envelope.data.readableBytesView)
        let core = self.core
        core.receive(bytes, from: SIPServerCore.source(remote, transport: .udp)) { response in
            guard core.admitReply(to: remote) else { return }
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: response)), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port-unreachable and friends surface here; a UDP server keeps serving.
    }
}

/// TCP: messages are cut from the stream by Content-Length; a framing error closes the connection.
final class SIPStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let core: SIPServerCore
    private var framer: SIPStreamFramer
    private var admitted = false
    /// The peer's address without its port: whose share of the connections this one is.
    private var source = ""

    init(core: SIPServerCore) {
        self.core = core
        self.framer = SIPStreamFramer(limits: core.configuration.redirect.limits)
    }

    func channelActive(context: ChannelHandlerContext) {
        source = context.channel.remoteAddress?.ipAddress ?? "unknown"
        admitted = core.admitConnection(from: source)
        if !admitted { context.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if admitted { core.releaseConnection(from: source) }
        admitted = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard admitted else { return }
        let buffer = Self.unwrapInboundIn(data)
        framer.append(buffer.readableBytesView)
        let source = SIPServerCore.source(context.channel.remoteAddress, transport: .tcp)
        let channel = context.channel
        do {
            while let message = try framer.next() {
                core.receive(message, from: source) { response in
                    channel.writeAndFlush(ByteBuffer(bytes: response), promise: nil)
                }
            }
        } catch {
            core.metrics.rejected(error)
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
