import NIOCore

/// Exporting side, on the service's UDP socket: frames each datagram the service sends and
/// writes it into the flow's SSH channel. UDP may lose: a datagram that finds the channel
/// full is dropped, never queued without bound.
final class DatagramFramer: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let stream: Channel
    private let meter: StreamMeter

    init(to stream: Channel, meter: StreamMeter) {
        self.stream = stream
        self.meter = meter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let datagram = unwrapInboundIn(data).data
        guard stream.isWritable, let frame = DatagramFraming.frame(datagram, allocator: context.channel.allocator) else { return }
        meter.add(datagram.readableBytes, .fromService)
        stream.write(frame, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        stream.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP "port unreachable" surfaces here on a connected socket; UDP carries on.
    }
}

/// On a flow's SSH channel, after `DatagramFrameDecoder`: sends each datagram out of a UDP
/// socket, to the service (a connected socket, `address` nil) or back to the importing
/// side's client (`address`). Dropped when the socket cannot take it.
final class DatagramDelivery: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let socket: Channel
    private let address: SocketAddress?
    private let meter: StreamMeter
    private let direction: StreamMeter.Direction

    init(to socket: Channel, address: SocketAddress?, meter: StreamMeter) {
        self.socket = socket
        self.address = address
        self.meter = meter
        self.direction = address == nil ? .toService : .fromService
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let datagram = unwrapInboundIn(data)
        guard socket.isWritable else { return }
        meter.add(datagram.readableBytes, direction)
        if let address {
            socket.write(AddressedEnvelope(remoteAddress: address, data: datagram), promise: nil)
        } else {
            socket.write(datagram, promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        socket.flush()
        context.fireChannelReadComplete()
    }
}
