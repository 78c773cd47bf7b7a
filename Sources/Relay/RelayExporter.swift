import Kademlia
import Logging
import NIOCore
import NIOPosix
import NIOSSH
import Primitives
import Synchronization
import Transport

/// The exporting leader's side of the relay: an SSH server that other islands' leaders
/// dial. It authenticates them (`RelayServerAuthentication`), and for each channel they
/// open asks the gateway's authorizer which LAN endpoints the named service has for that
/// requester, connects there and splices bytes (TCP) or framed datagrams (UDP) both ways.
/// Nothing else on the LAN can be reached through it.
///
/// An exporting leader that cannot be dialled (behind NAT) dials out instead (`dialOut`,
/// a reverse tunnel) and serves the streams that arrive over that connection the same way.
/// Its own server grants such reverse tunnels to the leaders that dial it, and registers
/// them in the `TunnelDirectory` it shares with this leader's importer.
///
/// Given a `Circuit` policy, it also relays streams onwards to such a leader for leaders
/// that cannot reach it themselves (`RelayExporter+Circuit`).
///
/// Decisions (admission, limits, revocation, counts) are `ExportGate`'s; this type carries
/// them out on NIO. Its state sits behind one lock, touched briefly from event loops.
public final class RelayExporter: Sendable {
    /// Answers which LAN endpoints a requesting leader may reach for a service: only
    /// services the gateway currently exports to that leader's island under its policy.
    /// Called on an event loop for every stream request: answer from memory, never block.
    public typealias Authorizer = @Sendable (_ requester: NodeID, _ service: ServiceRef) -> Result<[Endpoint], RelayRefusal>

    /// Answers whether a stream request is for another leader's service that this leader
    /// relays onwards (a circuit, for two leaders that cannot reach each other, as libp2p's
    /// circuit relay v2): nil when it is not (the authorizer decides), `.success(leader)` to
    /// forward it over the reverse tunnel `leader` dialled in (`TunnelDirectory`),
    /// `.failure(reason)` when this leader's policy refuses to. Called on an event loop for
    /// every stream request, before the authorizer: answer from memory, never block.
    public typealias Circuit = @Sendable (_ requester: NodeID, _ service: ServiceRef) -> Result<NodeID, RelayRefusal>?

    struct State {
        var gate: ExportGate
        var streams: [StreamID: LiveStream] = [:]
        var listener: Channel?
        /// Every connection: those its server accepted and those it dialled out.
        var tunnels: [ObjectIdentifier: Channel] = [:]
        var reverse: [NodeID: ReverseTunnel] = [:]
        var stopped = false
    }

    public let settings: RelaySettings
    let authorizer: Authorizer
    let circuit: Circuit?
    let directory: TunnelDirectory?
    let state: Mutex<State>
    var limits: RelayLimits { settings.limits }

    /// - Parameters:
    ///   - directory: where the server registers the reverse tunnels other leaders dial in,
    ///     for this leader's importer (and its circuits); nil refuses them.
    ///   - circuit: which requests to forward to another leader; nil forwards none.
    public init(_ settings: RelaySettings, directory: TunnelDirectory? = nil, circuit: Circuit? = nil,
                authorizer: @escaping Authorizer) {
        self.settings = settings
        self.directory = directory
        self.circuit = circuit
        self.authorizer = authorizer
        self.state = Mutex(State(gate: ExportGate(limits: settings.limits)))
    }

    /// Listens for tunnels on `endpoint` (port 0 picks one) and returns where it listens. On
    /// the IPv6 wildcard it listens for IPv4 too (`Wildcard`).
    public func start(on endpoint: Endpoint) async throws -> Endpoint {
        var bootstrap = ServerBootstrap(group: settings.group)
        if endpoint.address == .v6(0, 0) { bootstrap = bootstrap.serverChannelOption(Wildcard.dualStackOption, value: 0) }
        let listener = try await bootstrap
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.setUpTunnel(channel) }
            }
            .bind(to: endpoint.socketAddress()).get()
        let stopped = state.withLock { s in
            if !s.stopped { s.listener = listener }
            return s.stopped
        }
        if stopped { try? await listener.close() }
        guard let local = listener.localAddress.flatMap(Endpoint.init) else { throw RelayRefusal.tunnelUnavailable }
        return local
    }

    /// Stops listening and closes every tunnel (dialled out too) and stream.
    public func shutdown() async {
        let channels = state.withLock { s -> [Channel] in
            s.stopped = true
            defer { s.listener = nil; s.tunnels = [:] }
            return (s.listener.map { [$0] } ?? []) + Array(s.tunnels.values)
        }
        for channel in channels { try? await channel.close() }
    }

    /// Refuses new streams for the instance (both transports) until `reinstate`, and closes
    /// its open ones now.
    public func revoke(_ service: ServiceRef) {
        let closing = state.withLock { s in
            s.gate.revoke(service).compactMap { s.streams.removeValue(forKey: $0)?.channel }
        }
        for channel in closing { channel.close(promise: nil) }
    }

    public func reinstate(_ service: ServiceRef) {
        state.withLock { $0.gate.reinstate(service) }
    }

    /// Refusals, endings and per-service traffic, open streams' bytes included.
    public var report: RelayReport {
        state.withLock { s in s.gate.report.including(s.streams.values) }
    }

    // MARK: one tunnel

    /// What one SSH connection knows about its client, on the connection's event loop.
    final class Peer {
        var id: NodeID?
        var handshakeTimeout: Scheduled<Void>?
    }

    private func setUpTunnel(_ channel: Channel) throws {
        let peer = Peer()
        let authentication = RelayServerAuthentication(
            server: settings.identity.id, key: settings.networkKey,
            refused: { [self] reason in
                state.withLock { $0.gate.book.refuse(reason) }
                settings.logger.debug("relay tunnel refused", metadata: ["reason": "\(reason)", "from": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
            },
            accepted: { [logger = settings.logger] id in
                peer.id = id
                peer.handshakeTimeout?.cancel()
                logger.info("relay tunnel up", metadata: ["peer": "\(id)"])
            })
        var configuration = SSHServerConfiguration(hostKeys: [NIOSSHPrivateKey(ed25519Key: settings.identity.privateKey)],
                                                   userAuthDelegate: authentication)
        configuration.maxAuthAttempts = 3
        configuration.maximumPacketSize = limits.channelPacketBytes
        configuration.globalRequestDelegate = ReverseTunnelRequests(
            peer: peer, channel: channel, directory: directory, answerTimeout: TimeAmount(limits.answerTimeout),
            refused: { [self] reason in state.withLock { $0.gate.book.refuse(reason) } })
        let ssh = NIOSSHHandler(role: .server(configuration), allocator: channel.allocator) { [self] child, type in
            guard let requester = peer.id else { return child.eventLoop.makeFailedFuture(RelayRefusal.notAGateway) }
            return openStream(child, type: type, requester: requester, openedBy: .client)
        }
        try channel.pipeline.syncOperations.addHandlers([ssh, CloseOnError()])
        // A client that does not authenticate in time is dropped.
        peer.handshakeTimeout = channel.eventLoop.scheduleTask(in: TimeAmount(limits.handshakeTimeout)) {
            channel.close(promise: nil)
        }
        let key = ObjectIdentifier(channel)
        let stopped = state.withLock { s in
            if !s.stopped { s.tunnels[key] = channel }
            return s.stopped
        }
        if stopped { channel.close(promise: nil) }
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLock { $0.tunnels.removeValue(forKey: key) }
        }
    }

    // MARK: one stream

    /// Answers one channel request from `requester`, over a tunnel it dialled (`opener`
    /// `.client`) or one this leader dialled out (`.server`): refused with a reason, or
    /// connected to the service and spliced. Runs on the tunnel's event loop, before the
    /// channel is confirmed.
    func openStream(_ child: Channel, type: SSHChannelType, requester: NodeID, openedBy opener: StreamOpener) -> EventLoopFuture<Void> {
        guard let target = opener.target(of: type) else {
            state.withLock { $0.gate.book.refuse(.protocolError) }
            return child.eventLoop.makeFailedFuture(RelayRefusal.protocolError)
        }
        let service: ServiceRef
        do {
            service = try ServiceRefCodec.decode(target)
        } catch {
            state.withLock { $0.gate.book.refuse(error) }
            return answer(child, .refused(error))
        }
        if let route = circuit?(requester, service) {
            return forward(child, service: service, requester: requester, route: route)
        }
        let authorization = authorizer(requester, service)
        let admission = state.withLock { $0.gate.admit(requester: requester, service: service, authorization: authorization) }
        guard case .admitted(let id, let endpoints) = admission else {
            let reason: RelayRefusal = if case .refused(let reason) = admission { reason } else { .protocolError }
            settings.logger.debug("relay stream refused", metadata: ["reason": "\(reason)", "peer": "\(requester)", "service": "\(service)"])
            return answer(child, .refused(reason))
        }
        let meter = StreamMeter()
        state.withLock { $0.streams[id] = LiveStream(service: service, meter: meter) }
        return connect(to: endpoints.prefix(limits.serviceEndpointsTried), for: service, meter: meter, partner: child)
            .flatMap { [self] lan in attach(id, service: service, meter: meter, child: child, lan: lan) }
            .flatMapError { [self] error in
                state.withLock { s in
                    s.streams[id] = nil
                    s.gate.book.failed(id, .unreachable)
                }
                settings.logger.debug("relay stream refused", metadata: ["reason": "\(RelayRefusal.unreachable)", "service": "\(service)", "error": "\(error)"])
                return answer(child, .refused(.unreachable))
            }
    }

    /// Sets up the child channel of an admitted stream around its LAN channel, unless the
    /// stream was revoked while connecting.
    private func attach(_ id: StreamID, service: ServiceRef, meter: StreamMeter, child: Channel, lan: Channel) -> EventLoopFuture<Void> {
        guard adopt(id, service: service, meter: meter, child: child) else {
            lan.close(promise: nil)
            return answer(child, .refused(.revoked))
        }
        return child.eventLoop.makeCompletedFuture {
            let sync = child.pipeline.syncOperations
            try sync.addHandlers([
                SSHDataCodec(), ReplyWriter(.accepted, service: lan),
                IdleStateHandler(allTimeout: TimeAmount(service.transport == .tcp ? limits.idleTimeout : limits.flowIdleTimeout)),
                IdleCloser(meter: meter),
            ])
            switch service.transport {
            case .tcp:
                try sync.addHandler(SpliceHandler(partner: lan, meter: meter, direction: .toService))
            case .udp:
                try sync.addHandlers([ByteToMessageHandler(DatagramFrameDecoder()),
                                      DatagramDelivery(to: lan, address: nil, meter: meter)])
                child.closeFuture.whenComplete { _ in lan.close(promise: nil) }
            }
        }
    }

    /// Takes the requester's channel on for an admitted stream, unless the stream was revoked
    /// meanwhile (false: the caller closes its other side and refuses): the stream's book
    /// entry ends when the channel closes.
    func adopt(_ id: StreamID, service: ServiceRef, meter: StreamMeter, child: Channel) -> Bool {
        let stillOpen = state.withLock { s in
            guard s.gate.book.open[id] != nil else { return false }
            s.streams[id]?.channel = child
            return true
        }
        guard stillOpen else { return false }
        child.closeFuture.whenComplete { [self] _ in
            state.withLock { s in
                s.streams[id] = nil
                s.gate.book.ended(id, service: service, meter.ending, bytes: meter.counts)
            }
        }
        return true
    }

    /// Connects to the first endpoint that answers, on the child's event loop, with reading
    /// held until the reply is out.
    private func connect(to endpoints: ArraySlice<Endpoint>, for service: ServiceRef, meter: StreamMeter, partner child: Channel) -> EventLoopFuture<Channel> {
        guard let endpoint = endpoints.first, let address = try? endpoint.socketAddress() else {
            return child.eventLoop.makeFailedFuture(RelayRefusal.unreachable)
        }
        let attempt: EventLoopFuture<Channel>
        switch service.transport {
        case .tcp:
            attempt = ClientBootstrap(group: child.eventLoop)
                .connectTimeout(TimeAmount(limits.serviceConnectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(.autoRead, value: false)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { lan in
                    lan.eventLoop.makeCompletedFuture {
                        try lan.pipeline.syncOperations.addHandlers([
                            InboundHold(), SpliceHandler(partner: child, meter: meter, direction: .fromService),
                        ])
                    }
                }
                .connect(to: address)
        case .udp:
            attempt = DatagramBootstrap(group: child.eventLoop)
                .channelOption(.autoRead, value: false)
                .channelInitializer { lan in
                    lan.eventLoop.makeCompletedFuture {
                        try lan.pipeline.syncOperations.addHandler(DatagramFramer(to: child, meter: meter))
                    }
                }
                .connect(to: address)
        }
        return attempt.flatMapError { [self] _ in connect(to: endpoints.dropFirst(), for: service, meter: meter, partner: child) }
    }

    /// Opens the channel only to send a refusal on it.
    func answer(_ child: Channel, _ reply: StreamReply) -> EventLoopFuture<Void> {
        child.eventLoop.makeCompletedFuture {
            try child.pipeline.syncOperations.addHandlers([SSHDataCodec(), ReplyWriter(reply, service: nil)])
        }
    }
}

/// Closes a tunnel's connection on any error its SSH handler reports.
final class CloseOnError: ChannelInboundHandler {
    typealias InboundIn = Any

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
