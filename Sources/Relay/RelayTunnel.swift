#if canImport(Glibc)
import Glibc
#endif
import Kademlia
import NIOCore
import NIOPosix
import NIOSSH
import Primitives
import Synchronization
import Transport

/// Where an exporting leader's relay listens, and who it must be: a node as others know it.
public typealias RelayLeader = Contact

/// One SSH connection between this leader and another, carrying every relayed stream this
/// leader opens towards that leader as its own channel. SSH's per-channel windows keep a
/// bulk transfer from starving the small streams beside it.
///
/// Usually this leader dialled (`dial`, the SSH client, opening `direct-tcpip` channels).
/// A leader that cannot be dialled dials out instead (`RelayExporter.dialOut`), and the
/// leader it dialled opens streams back over that connection as the SSH server
/// (`forwarded-tcpip` channels, `StreamOpener`); `TunnelDirectory` hands those tunnels to
/// its importer. Either way `openStream` is the one way a stream is asked for.
///
/// Authentication both ways with kept crypto only: the server's host key must hash to the
/// leader's node id (`ExpectedLeaderHostKey`), and the client signs in with its own Ed25519
/// identity and the network-key proof (`RelayClientAuthentication`).
final class RelayTunnel: Sendable {
    /// The leader at the other end.
    let leader: NodeID
    let channel: Channel
    /// Which end this side is, and so which channel type its streams open.
    let opener: StreamOpener
    private let ssh: NIOLoopBound<NIOSSHHandler>
    private let answerTimeout: TimeAmount

    init(leader: NodeID, channel: Channel, ssh: NIOLoopBound<NIOSSHHandler>, opener: StreamOpener, answerTimeout: TimeAmount) {
        self.leader = leader
        self.channel = channel
        self.ssh = ssh
        self.opener = opener
        self.answerTimeout = answerTimeout
    }

    /// Sets up the channels the server opens towards a client that dialled out, on the
    /// connection's loop (`RelayExporter` serving a stream request).
    typealias StreamServer = @Sendable (_ child: Channel, _ type: SSHChannelType) -> EventLoopFuture<Void>

    /// Connects, checks the server, authenticates; fails with `wrongHostKey` or
    /// `tunnelUnavailable` (anything else: refused, timed out, closed).
    ///
    /// - Parameter serving: nil for a tunnel this leader opens streams on (the server opens
    ///   no channel towards it). Given, the tunnel is a reverse one: once authenticated it
    ///   asks the server to open streams towards it (`tcpip-forward`,
    ///   `ReverseTunnelRequests`), is up only once the server agreed, and hands every
    ///   channel the server opens to `serving`.
    static func dial(_ leader: RelayLeader, settings: RelaySettings, on loop: any EventLoop,
                     serving: StreamServer? = nil) -> EventLoopFuture<RelayTunnel> {
        let wrongHostKey = WrongHostKeyFlag()
        let address: SocketAddress
        do { address = try leader.endpoint.socketAddress() } catch { return loop.makeFailedFuture(RelayRefusal.tunnelUnavailable) }
        let timeout = TimeAmount(settings.limits.handshakeTimeout)
        let ready = loop.makePromise(of: Void.self)
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
        if serving != nil { bootstrap = bootstrap.keepalive(after: settings.limits.reverseKeepalive) }
        return bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var configuration = SSHClientConfiguration(
                        userAuthDelegate: RelayClientAuthentication(identity: settings.identity, server: leader.id, key: settings.networkKey),
                        serverAuthDelegate: ExpectedLeaderHostKey(leader: leader.id) { wrongHostKey.set() })
                    configuration.maximumPacketSize = settings.limits.channelPacketBytes
                    let ssh = NIOSSHHandler(role: .client(configuration), allocator: channel.allocator) { child, type in
                        // Only a reverse tunnel's server opens channels towards us.
                        guard let serving else { return child.eventLoop.makeFailedFuture(RelayRefusal.protocolError) }
                        return serving(child, type)
                    }
                    try channel.pipeline.syncOperations.addHandlers([ssh, TunnelWatcher(ready: ready)])
                }
            }
            .connect(to: address)
            .flatMap { channel in
                // Cancelled once up: firing, it ends a handshake or a `tcpip-forward` request
                // still unanswered.
                let timer = channel.eventLoop.scheduleTask(in: timeout) {
                    channel.pipeline.fireUserInboundEventTriggered(TunnelWatcher.TimedOut())
                    channel.close(promise: nil)
                }
                return ready.futureResult
                    .flatMap { () -> EventLoopFuture<Void> in
                        guard serving != nil else { return channel.eventLoop.makeSucceededVoidFuture() }
                        return askForReverseStreams(on: channel)
                    }
                    .flatMapThrowing {
                        timer.cancel()
                        let ssh = try channel.pipeline.syncOperations.handler(type: NIOSSHHandler.self)
                        return RelayTunnel(leader: leader.id, channel: channel, ssh: NIOLoopBound(ssh, eventLoop: channel.eventLoop),
                                           opener: .client, answerTimeout: TimeAmount(settings.limits.answerTimeout))
                    }
                    .flatMapErrorThrowing { error in
                        timer.cancel()
                        channel.close(promise: nil)
                        throw error
                    }
            }
            .flatMapErrorThrowing { _ in
                // `ready` may not have reached a pipeline (connect failed); a promise keeps its
                // first result, so this is a no-op otherwise.
                ready.fail(RelayRefusal.tunnelUnavailable)
                throw wrongHostKey.isSet ? RelayRefusal.wrongHostKey : RelayRefusal.tunnelUnavailable
            }
    }

    /// The `tcpip-forward` request that turns an authenticated connection into a reverse
    /// tunnel; fails when the server refuses it (it takes no reverse tunnels). The
    /// handshake timer still runs, and closing the connection fails the request.
    private static func askForReverseStreams(on channel: Channel) -> EventLoopFuture<Void> {
        let answered = channel.eventLoop.makePromise(of: GlobalRequest.TCPForwardingResponse?.self)
        do {
            try channel.pipeline.syncOperations.handler(type: NIOSSHHandler.self)
                .sendTCPForwardingRequest(.listen(host: ReverseTunnelRequests.host, port: 0), promise: answered)
        } catch {
            answered.fail(error)
        }
        return answered.futureResult.map { _ in }
    }

    /// Opens a channel for `service`, lets `configure` set up its pipeline (on the tunnel's
    /// loop, before the channel is confirmed) with a `ReplyReader` completing the given
    /// answer, and returns the exporting leader's reply. Never fails: a channel that could
    /// not be opened reads as `tunnelUnavailable`.
    ///
    /// - Parameter timeout: how long to wait for the answer; the tunnel's answer timeout
    ///   when nil (a circuit waits less, so its requester hears before it gives up).
    func openStream(for service: ServiceRef, within timeout: TimeAmount? = nil,
                    configure: @escaping @Sendable (Channel, EventLoopPromise<StreamReply>) throws -> Void) -> EventLoopFuture<StreamReply> {
        openStream(target: ServiceRefCodec.encode(service), within: timeout, configure: configure)
    }

    /// `openStream(for:)` with the channel's target host as given (tests send others).
    func openStream(target host: String, within timeout: TimeAmount? = nil,
                    configure: @escaping @Sendable (Channel, EventLoopPromise<StreamReply>) throws -> Void) -> EventLoopFuture<StreamReply> {
        let loop = channel.eventLoop
        let answered = loop.makePromise(of: StreamReply.self)
        let opened = loop.makePromise(of: Channel.self)
        let type = opener.channelType(for: host)
        loop.execute { [ssh] in
            ssh.value.createChannel(opened, channelType: type) { child, _ in
                child.eventLoop.makeCompletedFuture { try configure(child, answered) }
            }
        }
        // A channel that never got its reader (refused by SSH, tunnel gone) is answered here.
        // A promise keeps its first result, so this never overrides the reader's answer.
        opened.futureResult.whenFailure { _ in answered.succeed(.refused(.tunnelUnavailable)) }
        // No answer in time: the peer is gone without the connection noticing. Both the
        // timer and the answer run on this loop, so the timer fires only while unanswered.
        let timer = loop.scheduleTask(in: timeout ?? answerTimeout) { [channel] in
            answered.succeed(.refused(.tunnelUnavailable))
            opened.futureResult.whenSuccess { $0.close(promise: nil) }
            channel.close(promise: nil)
        }
        answered.futureResult.whenComplete { _ in timer.cancel() }
        return answered.futureResult
    }
}

extension ClientBootstrap {
    /// TCP keepalive probes after `idle` without traffic, then every third of it; the
    /// connection fails after three unanswered (`RelayLimits.reverseKeepalive`).
    func keepalive(after idle: Interval) -> ClientBootstrap {
        let seconds = SocketOptionValue(clamping: max(1, Int(idle.seconds.rounded(.up))))
        return channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(TCPKeepalive.idle, value: seconds)
            .channelOption(TCPKeepalive.interval, value: max(1, seconds / 3))
            .channelOption(TCPKeepalive.count, value: 3)
    }
}

/// The Linux TCP keepalive socket options NIO does not name.
enum TCPKeepalive {
    static let idle = option(TCP_KEEPIDLE)
    static let interval = option(TCP_KEEPINTVL)
    static let count = option(TCP_KEEPCNT)

    private static func option(_ name: CInt) -> ChannelOptions.Types.SocketOption {
        ChannelOptions.Types.SocketOption(level: NIOBSDSocket.OptionLevel.tcp, name: NIOBSDSocket.Option(rawValue: name))
    }
}

/// Set from the host-key check, read after the dial failed (maybe on another thread).
final class WrongHostKeyFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// Watches a client tunnel's connection until SSH authentication succeeded: completes
/// `ready`, or fails it on an error, a close or the handshake timeout.
final class TunnelWatcher: ChannelInboundHandler {
    typealias InboundIn = Any
    struct TimedOut: Sendable {}

    private let ready: EventLoopPromise<Void>
    private var settled = false

    init(ready: EventLoopPromise<Void>) { self.ready = ready }

    private func settle(_ result: Result<Void, Error>) {
        guard !settled else { return }
        settled = true
        ready.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is UserAuthSuccessEvent:
            settle(.success(()))
        case is TimedOut:
            if !settled {
                settle(.failure(RelayRefusal.tunnelUnavailable))
                context.close(promise: nil)
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        settle(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        settle(.failure(RelayRefusal.tunnelUnavailable))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        settle(.failure(RelayRefusal.tunnelUnavailable))
    }
}
