import DNSSD
import LocalDomain
import Logging
import NIOCore
import NIOPosix
import Transport

/// Listens to mDNS on the link (UDP 5353 beside avahi-daemon, both with SO_REUSEADDR) for
/// what Avahi's client API reports late or never, read from every well-formed response:
/// - goodbyes, so the gateway withdraws an export when the service says goodbye rather
///   than a second later when its avahi-daemon's cache lets the record go (RFC 6762 §10.1);
/// - the service types named, so a type whose responder does not announce the enumeration
///   record (python-zeroconf) is browsed at once rather than at Avahi's next type query,
///   up to half a minute later (`MDNSTypes`);
/// - on one interface (router mode), the instances announced (`announcements`) and every
///   SRV, TXT and address record (`records`), by which the link's Avahi domain keeps what
///   it resolved once current (`ResolutionUpkeep.onChange`).
/// It sends nothing. Without the port (another responder holds it exclusively) the gateway
/// works as before, a second slower to withdraw and slower to see such types; the log says so.
public final class MDNSListener: Sendable {
    public let goodbyes: AsyncStream<ServiceID>
    public let types: AsyncStream<ServiceType>
    /// Instances announced (PTRs with a TTL); only for a listener on one interface.
    public let announcements: AsyncStream<ServiceID>
    /// The SRV, TXT, A and AAAA records of each datagram that has any; only for a listener
    /// on one interface.
    public let records: AsyncStream<[MDNSResponse.Record]>
    private let continuations: MDNSHandler.Continuations
    private let logger: Logger
    /// Router mode: only what arrives on this interface (one link of the box).
    private let interface: InterfaceIndex?

    public init(logger: Logger, interface: InterfaceIndex? = nil) {
        let (goodbyes, goodbye) = AsyncStream.makeStream(of: ServiceID.self)
        let (types, type) = AsyncStream.makeStream(of: ServiceType.self)
        let (announcements, announcement) = AsyncStream.makeStream(of: ServiceID.self, bufferingPolicy: .bufferingNewest(4096))
        let (records, record) = AsyncStream.makeStream(of: [MDNSResponse.Record].self, bufferingPolicy: .bufferingNewest(4096))
        (self.goodbyes, self.types, self.announcements, self.records) = (goodbyes, types, announcements, records)
        continuations = MDNSHandler.Continuations(goodbyes: goodbye, types: type,
                                                  announcements: interface == nil ? nil : announcement,
                                                  records: interface == nil ? nil : record, interface: interface)
        if interface == nil {
            announcement.finish()
            record.finish()
        }
        self.logger = logger
        self.interface = interface
    }

    /// Binds and listens until cancelled; returns at once (after logging why) when it can
    /// bind neither family. It listens on IPv4 (224.0.0.251) and IPv6 (ff02::fb): on an
    /// IPv6-only LAN responders speak IPv6 alone, and on a dual-stack one the same answer
    /// heard twice is one to the `GoodbyeTable` and to `MDNSTypes`' consumer.
    public func run() async {
        var channels: [Channel] = []
        var failures: [String] = []
        for family in [Family.ipv4, .ipv6] {
            do { channels.append(try await bind(family)) } catch { failures.append("\(family): \(error)") }
        }
        guard !channels.isEmpty else {
            let unseen = interface == nil ? "" : "; changes to the services resolved on this link go unseen (router mode)"
            logger.warning("""
                not listening to mDNS on the link; withdrawals follow avahi-daemon's cache, a second later, \
                and types of responders other than Avahi its enumeration queries\(unseen)
                """, metadata: ["reason": "\(failures.joined(separator: "; "))"])
            return
        }
        if !failures.isEmpty {
            logger.debug("listening to mDNS over one family only", metadata: ["reason": "\(failures.joined(separator: "; "))"])
        }
        let open = channels
        await withTaskCancellationHandler {
            for channel in open { _ = try? await channel.closeFuture.get() }
        } onCancel: {
            for channel in open { channel.close(promise: nil) }
        }
        continuations.finish()
    }

    private enum Family: CustomStringConvertible {
        case ipv4, ipv6

        var wildcard: String { self == .ipv4 ? "0.0.0.0" : "::" }
        var group: String { self == .ipv4 ? "224.0.0.251" : "ff02::fb" }
        var `protocol`: NIOBSDSocket.ProtocolFamily { self == .ipv4 ? .inet : .inet6 }
        var description: String { self == .ipv4 ? "IPv4" : "IPv6" }
    }

    /// A socket on UDP 5353 of one family that has joined the mDNS group on every interface
    /// of that family (or the default one when none would).
    private func bind(_ family: Family) async throws -> Channel {
        let continuations = self.continuations
        var bootstrap = DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 9_000))
        // IPv6 only: IPv4 packets are the other socket's.
        if family == .ipv6 { bootstrap = bootstrap.channelOption(Wildcard.dualStackOption, value: 1) }
        // One link only: the handler keeps what arrived on its interface.
        if interface != nil { bootstrap = bootstrap.channelOption(.receivePacketInfo, value: true) }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MDNSHandler(continuations: continuations))
                }
            }
            .bind(host: family.wildcard, port: 5353).get()
        do {
            guard let multicast = channel as? MulticastChannel else { throw ChannelError.operationUnsupported }
            let group = try SocketAddress(ipAddress: family.group, port: 5353)
            var joined = 0
            for device in (try? System.enumerateDevices()) ?? [] where device.multicastSupported && device.address?.protocol == family.protocol
                && (interface.map { Int($0) == device.interfaceIndex } ?? true) {
                if (try? await multicast.joinGroup(group, device: device).get()) != nil { joined += 1 }
            }
            if joined == 0 { try await multicast.joinGroup(group).get() }
            return channel
        } catch {
            try? await channel.close()
            throw error
        }
    }
}

private final class MDNSHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    struct Continuations: Sendable {
        let goodbyes: AsyncStream<ServiceID>.Continuation
        let types: AsyncStream<ServiceType>.Continuation
        let announcements: AsyncStream<ServiceID>.Continuation?
        let records: AsyncStream<[MDNSResponse.Record]>.Continuation?
        /// Keep only datagrams that arrived on this interface (nil: all).
        let interface: InterfaceIndex?

        func finish() {
            goodbyes.finish()
            types.finish()
            announcements?.finish()
            records?.finish()
        }
    }

    let continuations: Continuations

    init(continuations: Continuations) { self.continuations = continuations }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        if let interface = continuations.interface, envelope.metadata?.packetInfo?.interfaceIndex != Int(interface) { return }
        let bytes = Array(envelope.data.readableBytesView)
        // Anything that is not a well-formed response is someone else's business.
        guard case .success(let records) = MDNSResponse.records(in: bytes) else { return }
        for id in MDNSGoodbyes.services(in: records.pointers) { continuations.goodbyes.yield(id) }
        for type in MDNSTypes.types(in: records.pointers) { continuations.types.yield(type) }
        if let announcements = continuations.announcements {
            for id in MDNSGoodbyes.announced(in: records.pointers) { announcements.yield(id) }
        }
        if let heard = continuations.records, !records.others.isEmpty { heard.yield(records.others) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A read error on one datagram must not close the listener.
    }
}
