import DNSSD
import Logging
import NIOCore
import NIOPosix

/// Listens to mDNS on the link (UDP 5353 beside avahi-daemon, both with SO_REUSEADDR) for
/// what Avahi's client API reports late or never, read from every well-formed response:
/// - goodbyes, so the gateway withdraws an export when the service says goodbye rather
///   than a second later when its avahi-daemon's cache lets the record go (RFC 6762 §10.1);
/// - the service types named, so a type whose responder does not announce the enumeration
///   record (python-zeroconf) is browsed at once rather than at Avahi's next type query,
///   up to half a minute later (`MDNSTypes`).
/// It sends nothing. Without the port (another responder holds it exclusively) the gateway
/// works as before, a second slower to withdraw and slower to see such types; the log says so.
public final class MDNSListener: Sendable {
    public let goodbyes: AsyncStream<ServiceID>
    public let types: AsyncStream<ServiceType>
    private let continuations: MDNSHandler.Continuations
    private let logger: Logger

    public init(logger: Logger) {
        let (goodbyes, goodbye) = AsyncStream.makeStream(of: ServiceID.self)
        let (types, type) = AsyncStream.makeStream(of: ServiceType.self)
        (self.goodbyes, self.types) = (goodbyes, types)
        continuations = MDNSHandler.Continuations(goodbyes: goodbye, types: type)
        self.logger = logger
    }

    /// Binds and listens until cancelled; returns at once (after logging why) when it cannot bind.
    public func run() async {
        let continuations = self.continuations
        let channel: Channel
        do {
            channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 9_000))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(MDNSHandler(continuations: continuations))
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
            logger.warning("""
                not listening to mDNS on the link; withdrawals follow avahi-daemon's cache, a second later, \
                and types of responders other than Avahi its enumeration queries
                """, metadata: ["reason": "\(error)"])
            return
        }
        await withTaskCancellationHandler {
            _ = try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        continuations.finish()
    }
}

private final class MDNSHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    struct Continuations: Sendable {
        let goodbyes: AsyncStream<ServiceID>.Continuation
        let types: AsyncStream<ServiceType>.Continuation

        func finish() {
            goodbyes.finish()
            types.finish()
        }
    }

    let continuations: Continuations

    init(continuations: Continuations) { self.continuations = continuations }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        // Anything that is not a well-formed response is someone else's business.
        guard case .success(let records) = MDNSResponse.ptrRecords(in: bytes) else { return }
        for id in MDNSGoodbyes.services(in: records) { continuations.goodbyes.yield(id) }
        for type in MDNSTypes.types(in: records) { continuations.types.yield(type) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A read error on one datagram must not close the listener.
    }
}
