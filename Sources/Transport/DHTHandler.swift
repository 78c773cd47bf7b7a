import Kademlia
import Logging
import NIOCore
import Primitives

/// The channel handler that owns a `DHTNode`: decodes datagrams into events, carries out
/// the effects (datagrams out, outcomes to waiting callers, notifications to the stream),
/// and keeps one event-loop timer armed at the node's next deadline. No protocol decision
/// is made here.
///
/// Confined to its channel's event loop: every method runs there (`@unchecked Sendable`
/// only so the peer can hand it to the loop).
final class DHTHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private var node: DHTNode
    private let codec: WireCodec
    private var limiter: InboundRateLimiter
    private let logger: Logger
    private let notifications: AsyncStream<SubscriptionNotification>.Continuation
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerAt: Instant?
    private var waiters: [RequestID: EventLoopPromise<Outcome>] = [:]
    private var nextRequest: UInt64 = 0
    private var stopped = false
    /// Whether this host can send to an endpoint's family (`ReachableFamilies`).
    private let reach: @Sendable (Endpoint) -> Bool
    /// Inbound datagrams refused by the rate limiter or the decoder (admission included:
    /// `missing_tag`, `bad_tag`) or ignored by the node, by reason.
    private(set) var refusals: [String: Int] = [:]

    init(node: DHTNode, logger: Logger, notifications: AsyncStream<SubscriptionNotification>.Continuation,
         reach: @escaping @Sendable (Endpoint) -> Bool = { _ in true }) {
        self.node = node
        self.reach = reach
        self.codec = WireCodec(limits: node.configuration.limits, key: node.configuration.networkKey)
        self.limiter = InboundRateLimiter(limits: node.configuration.limits)
        self.logger = logger
        self.notifications = notifications
    }

    /// Every contact of the routing table.
    var contacts: [Contact] { node.table.allContacts }

    /// The node itself (a copy) and the loop's `now`, for status pages.
    var inspection: (node: DHTNode, now: Instant) {
        (node, Instant(nanoseconds: context?.eventLoop.now.uptimeNanoseconds ?? NIODeadline.now().uptimeNanoseconds))
    }

    var snapshot: PeerSnapshot {
        PeerSnapshot(
            id: node.id, stage: node.stage, overlay: node.overlay, contacts: node.table.count, members: node.mesh.count, values: node.store.valueCount,
            counters: node.counters, refusals: refusals)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Bound (again, after an unexpected close): the node's timers go on where they were.
    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    /// The socket closed. The node keeps its state: `DHTPeer.run()` binds again and adds this
    /// handler to the new channel; requests in flight time out in the node as usual.
    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        timerAt = nil
        self.context = nil
    }

    /// The peer stopped for good: waiting callers get an error, notifications end.
    func shutDown() {
        stopped = true
        for (_, w) in waiters { w.fail(ChannelError.ioOnClosedChannel) }
        waiters.removeAll()
        notifications.finish()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let from = Endpoint(envelope.remoteAddress) else { return }
        // Metered before anything costs: authentication and decoding come after.
        let verdict = limiter.admit(from: from, now: Instant(nanoseconds: context.eventLoop.now.uptimeNanoseconds))
        if let reason = verdict.reason {
            refusals[reason, default: 0] += 1
            return
        }
        let bytes = Array(envelope.data.readableBytesView)
        do {
            let message = try codec.decode(bytes)
            handle(.received(message, from: from))
        } catch {
            refusals[error.reason, default: 0] += 1
            logger.debug("dropped datagram", metadata: ["from": "\(from)", "reason": "\(error.reason)"])
        }
    }

    /// Starts a command; the promise completes with its outcome (`nil` command
    /// builders, such as unsubscribe, complete nothing).
    /// Between an unexpected close and the next bind, commands still go to the node (a put
    /// is stored here and republished); only their datagrams are lost, as on a lossy link.
    func start(_ build: (RequestID) -> Command, promise: EventLoopPromise<Outcome>?) {
        guard !stopped else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        nextRequest += 1
        let request = RequestID(nextRequest)
        if let promise { waiters[request] = promise }
        handle(.command(build(request)))
    }

    private func handle(_ event: Event) {
        // The loop's clock: real uptime on a socket, virtual time on an EmbeddedEventLoop.
        let now = Instant(nanoseconds: (context?.eventLoop.now ?? NIODeadline.now()).uptimeNanoseconds)
        let effects = node.handle(event, now: now)
        var wrote = false
        for effect in effects {
            switch effect {
            case .send(let message, let to):
                guard let context, reach(to), let address = to.socketAddress(from: context.channel.localAddress) else { continue }
                let bytes = codec.encode(message)
                var buffer = context.channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: address, data: buffer)), promise: nil)
                wrote = true
            case .completed(let request, let outcome):
                waiters.removeValue(forKey: request)?.succeed(outcome)
            case .notification(let n):
                notifications.yield(n)
            case .dropped(let reason):
                refusals[reason.reason, default: 0] += 1
                logger.debug("ignored message", metadata: ["reason": "\(reason.reason)"])
            case .stageChanged(let stage):
                logger.info("overlay stage", metadata: ["stage": "\(stage.rawValue)"])
            }
        }
        guard let context else { return } // unbound: the timer is armed again on the next bind
        if wrote { context.flush() }
        arm(context)
    }

    /// Keeps one timer at the node's next deadline.
    private func arm(_ context: ChannelHandlerContext) {
        guard let next = node.nextDeadline else {
            timer?.cancel()
            timer = nil
            timerAt = nil
            return
        }
        if let at = timerAt, at == next { return }
        timer?.cancel()
        timerAt = next
        timer = context.eventLoop.scheduleTask(deadline: next.deadline) { [weak self] in
            guard let self else { return }
            self.timerAt = nil
            self.timer = nil
            self.handle(.tick)
        }
    }
}

/// What a peer's node looks like right now, for status pages and tests.
public struct PeerSnapshot: Sendable {
    public var id: NodeID
    public var stage: Stage
    /// The overlay the node belongs to (nil until it has met another node).
    public var overlay: UInt64?
    /// Routing-table entries.
    public var contacts: Int
    /// Members known in direct exchange (0 in structure).
    public var members: Int
    public var values: Int
    public var counters: Counters
    public var refusals: [String: Int]
}
