import NIOCore
import Primitives

/// First handler on the gateway's UDP socket: datagrams that start with `prefix` (the island
/// heartbeats' magic) go to `stream`; everything else travels on to the DHT. One socket, one
/// port for the island and the DHT, so an admin opens one UDP port.
final class DatagramSplitter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias InboundOut = AddressedEnvelope<ByteBuffer>

    private let prefix: [UInt8]
    private let continuation: AsyncStream<(bytes: [UInt8], from: Endpoint)>.Continuation

    init(prefix: [UInt8], continuation: AsyncStream<(bytes: [UInt8], from: Endpoint)>.Continuation) {
        self.prefix = prefix
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.data.readableBytesView.starts(with: prefix) else {
            context.fireChannelRead(data)
            return
        }
        if let from = Endpoint(envelope.remoteAddress) {
            continuation.yield((Array(envelope.data.readableBytesView), from))
        }
    }

    /// The peer stopped for good (not on a close: the socket may be bound again).
    func finish() {
        continuation.finish()
    }
}
