import NIOCore
import Primitives

/// On an importing listener's UDP socket: gives each client address its own flow, a
/// stream to the exporting leader, opened on the client's first datagram. Datagrams go out
/// framed on the flow's channel; answers come back through `DatagramDelivery` to the same
/// client. Which datagram goes where is `FlowTable`'s decision; a flow ends when its
/// channel closes (idle timeout, revocation, tunnel lost).
final class UDPFlowDispatcher: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let importer: RelayImporter
    private let service: ServiceRef
    private let leader: RelayLeader
    private let socket: Channel
    private var flows: FlowTable<SocketAddress, Flow, ByteBuffer>

    /// An accepted flow's channel and its byte counts.
    struct Flow {
        var stream: Channel
        var meter: StreamMeter
    }

    init(importer: RelayImporter, service: ServiceRef, leader: RelayLeader, socket: Channel) {
        self.importer = importer
        self.service = service
        self.leader = leader
        self.socket = socket
        self.flows = FlowTable(limits: importer.limits)
    }

    private var now: Instant { Instant(nanoseconds: NIODeadline.now().uptimeNanoseconds) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let client = envelope.remoteAddress
        switch flows.datagram(envelope.data, from: client, now: now) {
        case .forward(let flow):
            send(envelope.data, on: flow)
        case .held, .drop(.refused), .drop(.queueFull):
            break
        case .drop(.limit):
            importer.state.withLock { $0.book.refuse(.limitConnectionsService) }
        case .openStream:
            open(for: client, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        for flow in flows.handles { flow.stream.flush() }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        for flow in flows.handles { flow.stream.close(promise: nil) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A client gone away (ICMP) is no reason to stop serving the others.
    }

    private func send(_ datagram: ByteBuffer, on flow: Flow) {
        guard flow.stream.isWritable, let frame = DatagramFraming.frame(datagram, allocator: socket.allocator) else { return }
        flow.meter.add(datagram.readableBytes, .toService)
        flow.stream.write(frame, promise: nil)
    }

    private func open(for client: SocketAddress, context: ChannelHandlerContext) {
        let meter = StreamMeter()
        guard let id = importer.beginStream(service, leader: leader, meter: meter) else {
            flows.refused(client, now: now)
            return
        }
        let socket = self.socket, idle = TimeAmount(importer.limits.flowIdleTimeout)
        let dispatcher = NIOLoopBound(self, eventLoop: context.eventLoop)
        importer.openStream(to: leader, for: service) { [importer] stream, answered in
            try stream.pipeline.syncOperations.addHandlers([
                SSHDataCodec(), ReplyReader(answered: answered),
                ByteToMessageHandler(DatagramFrameDecoder()),
                IdleStateHandler(allTimeout: idle), IdleCloser(meter: meter),
                DatagramDelivery(to: socket, address: client, meter: meter),
            ])
            answered.futureResult.whenSuccess { reply in
                guard reply == .accepted else { return }
                importer.track(id, closing: stream)
                socket.eventLoop.execute { dispatcher.value.accepted(client, stream: stream, meter: meter) }
                stream.closeFuture.whenComplete { _ in socket.eventLoop.execute { dispatcher.value.flows.ended(client) } }
            }
        }
        .whenSuccess { [importer] reply in
            guard case .refused(let reason) = reply else { return }
            importer.refused(id, reason)
            socket.eventLoop.execute { dispatcher.value.flows.refused(client, now: dispatcher.value.now) }
        }
    }

    private func accepted(_ client: SocketAddress, stream: Channel, meter: StreamMeter) {
        let flow = Flow(stream: stream, meter: meter)
        for datagram in flows.accepted(client, handle: flow) { send(datagram, on: flow) }
        stream.flush()
    }
}
