import DNSSD
import Logging
import NIOCore
import NIOPosix

/// Listens to mDNS on the link (UDP 5353 beside avahi-daemon, both with SO_REUSEADDR) for
/// goodbyes only, so the gateway withdraws an export when the service says goodbye rather
/// than a second later when its avahi-daemon's cache lets the record go (RFC 6762 §10.1).
/// It sends nothing. Without the port (another responder holds it exclusively) the gateway
/// works as before, a second slower to withdraw; the log says so.
public final class GoodbyeListener: Sendable {
    public let goodbyes: AsyncStream<ServiceID>
    private let continuation: AsyncStream<ServiceID>.Continuation
    private let logger: Logger

    public init(logger: Logger) {
        (goodbyes, continuation) = AsyncStream.makeStream(of: ServiceID.self)
        self.logger = logger
    }

    /// Binds and listens until cancelled; returns at once (after logging why) when it cannot bind.
    public func run() async {
        let continuation = self.continuation
        let channel: Channel
        do {
            channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 9_000))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(GoodbyeHandler(continuation: continuation))
                    }
                }
                .bind(host: "0.0.0.0", port: 5353).get()
            guard let multicast = channel as? MulticastChannel else { throw ChannelError.operationUnsupported }
            let group = try SocketAddress(ipAddress: "224.0.0.251", port: 5353)
            var joined = 0
            for device in (try? System.enumerateDevices()) ?? [] where device.multicastSupported && device.address?.protocol == .inet {
                if (try? await multicast.joinGroup(group, device: device).get()) != nil { joined += 1 }
            }
            if joined == 0 { try await multicast.joinGroup(group).get() }
        } catch {
            logger.warning("not listening for mDNS goodbyes; withdrawals follow avahi-daemon's cache, a second later",
                           metadata: ["reason": "\(error)"])
            return
        }
        await withTaskCancellationHandler {
            _ = try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        continuation.finish()
    }
}

private final class GoodbyeHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let continuation: AsyncStream<ServiceID>.Continuation

    init(continuation: AsyncStream<ServiceID>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        // Anything that is not a well-formed response is someone else's business.
        guard case .success(let ids) = MDNSGoodbyes.services(in: bytes) else { return }
        for id in ids { continuation.yield(id) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A read error on one datagram must not close the listener.
    }
}
