import Kademlia
import NIOCore
import NIOPosix
import NIOSSH
import Primitives
import Synchronization
import Transport

/// Where an exporting leader's relay listens, and who it must be: a node as others know it.
public typealias RelayLeader = Contact

/// One SSH connection from this leader (the client) to an exporting leader, carrying every
/// relayed stream between the two as its own channel. SSH's per-channel windows keep a bulk
/// transfer from starving the small streams beside it.
///
/// Authentication both ways with kept crypto only: the server's host key must hash to the
/// leader's node id (`ExpectedLeaderHostKey`), and the client signs in with its own Ed25519
/// identity and the network-key proof (`RelayClientAuthentication`).
final class RelayTunnel: Sendable {
    let leader: NodeID
    let channel: Channel
    private let ssh: NIOLoopBound<NIOSSHHandler>
    private let answerTimeout: TimeAmount

    private init(leader: NodeID, channel: Channel, ssh: NIOLoopBound<NIOSSHHandler>, answerTimeout: TimeAmount) {
        self.leader = leader
        self.channel = channel
        self.ssh = ssh
        self.answerTimeout = answerTimeout
    }

    /// Connects, checks the server, authenticates; fails with `wrongHostKey` or
    /// `tunnelUnavailable` (anything else: refused, timed out, closed).
    static func dial(_ leader: RelayLeader, settings: RelaySettings, on loop: any EventLoop) -> EventLoopFuture<RelayTunnel> {
        let wrongHostKey = WrongHostKeyFlag()
        let address: SocketAddress
        do { address = try leader.endpoint.socketAddress() } catch { return loop.makeFailedFuture(RelayRefusal.tunnelUnavailable) }
        let timeout = TimeAmount(settings.limits.handshakeTimeout)
        let ready = loop.makePromise(of: Void.self)
        return ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var configuration = SSHClientConfiguration(
                        userAuthDelegate: RelayClientAuthentication(identity: settings.identity, server: leader.id, key: settings.networkKey),
                        serverAuthDelegate: ExpectedLeaderHostKey(leader: leader.id) { wrongHostKey.set() })
                    configuration.maximumPacketSize = settings.limits.channelPacketBytes
                    // The server never opens channels towards us.
                    let ssh = NIOSSHHandler(role: .client(configuration), allocator: channel.allocator) { child, _ in
                        child.eventLoop.makeFailedFuture(RelayRefusal.protocolError)
                    }
                    try channel.pipeline.syncOperations.addHandlers([ssh, TunnelWatcher(ready: ready)])
                }
            }
            .connect(to: address)
            .flatMap { channel in
                let timer = channel.eventLoop.scheduleTask(in: timeout) {
                    channel.pipeline.fireUserInboundEventTriggered(TunnelWatcher.TimedOut())
                }
                return ready.futureResult.flatMapThrowing {
                    timer.cancel()
                    let ssh = try channel.pipeline.syncOperations.handler(type: NIOSSHHandler.self)
                    return RelayTunnel(leader: leader.id, channel: channel, ssh: NIOLoopBound(ssh, eventLoop: channel.eventLoop),
                                       answerTimeout: TimeAmount(settings.limits.answerTimeout))
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

    /// Opens a channel for `service`, lets `configure` set up its pipeline (on the tunnel's
    /// loop, before the channel is confirmed) with a `ReplyReader` completing the given
    /// answer, and returns the exporting leader's reply. Never fails: a channel that could
    /// not be opened reads as `tunnelUnavailable`.
    func openStream(for service: ServiceRef,
                    configure: @escaping @Sendable (Channel, EventLoopPromise<StreamReply>) throws -> Void) -> EventLoopFuture<StreamReply> {
        openStream(target: ServiceRefCodec.encode(service), configure: configure)
    }

    /// `openStream(for:)` with the channel's target host as given (tests send others).
    func openStream(target host: String,
                    configure: @escaping @Sendable (Channel, EventLoopPromise<StreamReply>) throws -> Void) -> EventLoopFuture<StreamReply> {
        let loop = channel.eventLoop
        let answered = loop.makePromise(of: StreamReply.self)
        let opened = loop.makePromise(of: Channel.self)
        let target = SSHChannelType.DirectTCPIP(
            targetHost: host, targetPort: 0, originatorAddress: try! SocketAddress(ipAddress: "0.0.0.0", port: 0))
        loop.execute { [ssh] in
            ssh.value.createChannel(opened, channelType: .directTCPIP(target)) { child, _ in
                child.eventLoop.makeCompletedFuture { try configure(child, answered) }
            }
        }
        // A channel that never got its reader (refused by SSH, tunnel gone) is answered here.
        // A promise keeps its first result, so this never overrides the reader's answer.
        opened.futureResult.whenFailure { _ in answered.succeed(.refused(.tunnelUnavailable)) }
        // No answer in time: the peer is gone without the connection noticing. Both the
        // timer and the answer run on this loop, so the timer fires only while unanswered.
        let timer = loop.scheduleTask(in: answerTimeout) { [channel] in
            answered.succeed(.refused(.tunnelUnavailable))
            opened.futureResult.whenSuccess { $0.close(promise: nil) }
            channel.close(promise: nil)
        }
        answered.futureResult.whenComplete { _ in timer.cancel() }
        return answered.futureResult
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
