#if canImport(Glibc)
import Glibc
#endif
import Kademlia
import Logging
import NIOCore
import NIOPosix
import Primitives
import Synchronization

/// A DHT node on a UDP socket: the thin adapter between a `DHTNode` and the network. It
/// binds in `run()` and serves until that task is cancelled; the async methods start
/// commands and return their outcomes; `notifications` carries subscription changes.
///
/// All protocol work happens on one event loop (the channel's), inside `DHTHandler`; this
/// type only hands commands to it. `run()` starts no other task: reading and timers are
/// the channel's.
///
/// NIO closes a datagram channel when a write fails with anything but `EMSGSIZE` or
/// `EHOSTUNREACH`: with the host's link down, every send fails with `ENETUNREACH` and the
/// first one would end the socket for good (RELIABILITY.md, finding 6). So `run()` binds
/// the same port again after an unexpected close, with the same node and its state, and
/// keeps doing so (backing off up to `rebindBackoff`) while the network stays unreachable.
public final class DHTPeer: Sendable {
    public let identity: Identity
    public let notifications: AsyncStream<SubscriptionNotification>
    /// Datagrams on this socket that start with `sidePrefix` (island heartbeats), not for the DHT.
    public let sideDatagrams: AsyncStream<(bytes: [UInt8], from: Endpoint)>
    private let splitter: DatagramSplitter
    /// The socket while it is bound (nil between an unexpected close and the next bind).
    private let channel = Mutex<Channel?>(nil)
    /// Times the socket was bound again after an unexpected close.
    private let rebinds = Mutex(0)
    private let handler: DHTHandler
    private let eventLoop: EventLoop
    private let host: String
    private let port: Int
    private let bound: EventLoopPromise<Endpoint>
    /// The families this host can send to: nothing else is sent (`ReachableFamilies`).
    private let families: HostFamilies
    private let logger: Logger

    /// - Parameters:
    ///   - host, port: where to listen (port 0: any free port). An IPv6 host ("::",
    ///     `Wildcard.host`) takes IPv4 peers too (IPV6_V6ONLY off).
    ///   - seed: the node's generator seed (random by default).
    public init(
        identity: Identity, configuration: Configuration, host: String = "127.0.0.1", port: Int = 0,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton, seed: UInt64 = .random(in: .min ... .max),
        logger: Logger = Logger(label: "z2z.dht"), sidePrefix: [UInt8] = Array("z2zH".utf8)
    ) {
        let (side, sideContinuation) = AsyncStream.makeStream(of: (bytes: [UInt8], from: Endpoint).self)
        self.sideDatagrams = side
        self.splitter = DatagramSplitter(prefix: sidePrefix, continuation: sideContinuation)
        self.identity = identity
        self.host = host
        self.port = port
        self.eventLoop = group.next()
        self.bound = eventLoop.makePromise(of: Endpoint.self)
        let (stream, continuation) = AsyncStream.makeStream(of: SubscriptionNotification.self)
        self.notifications = stream
        var logger = logger
        logger[metadataKey: "node"] = "\(identity.id)"
        self.logger = logger
        let families = HostFamilies()
        self.families = families
        // The node's clock is the loop's (uptime); records carry wall-clock issue times.
        var configuration = configuration
        if configuration.wallClockAtZero == nil {
            var wall = timespec()
            clock_gettime(CLOCK_REALTIME, &wall)
            let uptime = NIODeadline.now().uptimeNanoseconds / 1_000_000_000
            configuration.wallClockAtZero = UInt64(max(0, wall.tv_sec)) &- min(UInt64(max(0, wall.tv_sec)), uptime)
        }
        self.handler = DHTHandler(node: DHTNode(identity: identity, configuration: configuration, seed: seed), logger: logger,
                                  notifications: continuation, reach: { families.reach($0) })
    }

    public var id: NodeID { identity.id }

    /// The longest pause between two binds after unexpected closes.
    public static let rebindBackoff: Duration = .seconds(4)

    /// Binds the socket and serves until the calling task is cancelled, then closes it. An
    /// unexpected close (a failed write) binds the same address again; only the first bind's
    /// failure (port taken) is thrown.
    public func run() async throws {
        let first: Channel
        do {
            first = try await bind(port: port)
        } catch {
            bound.fail(error)
            shutDown()
            throw error
        }
        guard let address = first.localAddress, let endpoint = Endpoint(address) else {
            first.close(promise: nil)
            bound.fail(ChannelError.unknownLocalAddress)
            shutDown()
            throw ChannelError.unknownLocalAddress
        }
        // The socket is usable (`sendSide`) before anyone waiting for the endpoint hears of it.
        self.channel.withLock { $0 = first }
        bound.succeed(endpoint)
        tellHostAddresses()
        var current: Channel? = first
        var pause: Duration = .milliseconds(250)
        while !Task.isCancelled {
            if let channel = current {
                self.channel.withLock { $0 = channel }
                let openedAt = ContinuousClock.now
                await withTaskCancellationHandler {
                    _ = try? await channel.closeFuture.get()
                } onCancel: {
                    channel.close(promise: nil)
                }
                self.channel.withLock { $0 = nil }
                if Task.isCancelled { break }
                // A socket that stayed up a while starts the backoff over.
                if openedAt.duration(to: .now) > .seconds(30) { pause = .milliseconds(250) }
                logger.warning("the DHT socket closed (a send failed: network unreachable?); binding it again",
                               metadata: ["port": "\(endpoint.port)", "in": "\(pause)"])
            }
            current = nil
            guard (try? await Task.sleep(for: pause)) != nil else { break }
            pause = min(pause * 2, Self.rebindBackoff)
            do {
                current = try await bind(port: Int(endpoint.port))
                rebinds.withLock { $0 += 1 }
                tellHostAddresses()
            } catch {
                logger.warning("binding the DHT socket again failed", metadata: ["reason": "\(error)"])
            }
        }
        shutDown()
    }

    /// Tells the node its host's addresses (how it knows it is behind NAT: others see it at
    /// another one). Read at every bind: a bind again follows a network change.
    private func tellHostAddresses() {
        let addresses = HostFamilies.hostAddresses() ?? []
        let handler = self.handler
        eventLoop.execute { handler.start({ _ in .hostAddresses(addresses) }, promise: nil) }
    }

    /// How often the socket was bound again after an unexpected close.
    public var rebindCount: Int { rebinds.withLock { $0 } }

    private func bind(port: Int) async throws -> Channel {
        let (handler, splitter) = (self.handler, self.splitter)
        var bootstrap = DatagramBootstrap(group: eventLoop)
        // Bound to "::", one socket serves IPv4 and IPv6 peers (`Wildcard`).
        if Wildcard.isIPv6(host) { bootstrap = bootstrap.channelOption(Wildcard.dualStackOption, value: 0) }
        return try await bootstrap
            // NIO reads 2,048 bytes per datagram by default; a frame with one large record
            // is bigger. One byte more than the largest frame, so an oversized datagram
            // reaches the decoder (and is refused there) instead of being cut short.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: Limits.default.maxFrameBytes + 1))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(splitter)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .bind(host: host, port: port).get()
    }

    /// The peer stops for good: callers waiting for outcomes get an error, the streams end.
    private func shutDown() {
        let (handler, splitter) = (self.handler, self.splitter)
        eventLoop.execute {
            handler.shutDown()
            splitter.finish()
        }
    }

    /// Sends a datagram that is not the DHT's (an island heartbeat) from this socket. Dropped
    /// when the socket is not bound (yet or any more), like any UDP datagram may be.
    public func sendSide(_ bytes: [UInt8], to endpoint: Endpoint) {
        guard let channel = self.channel.withLock({ $0 }) else { return }
        guard families.reach(endpoint), let address = endpoint.socketAddress(from: channel.localAddress) else { return }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
    }

    /// Where the peer listens, once `run()` has bound it.
    public var endpoint: Endpoint {
        get async throws { try await bound.futureResult.get() }
    }

    /// Joins through nodes known by address; returns how many contacts the table holds.
    @discardableResult
    public func bootstrap(_ endpoints: [Endpoint]) async throws -> Int {
        guard case .bootstrapped(let n, _) = try await perform({ .bootstrap($0, endpoints) }) else { return 0 }
        return n
    }

    public func lookup(_ target: NodeID) async throws -> LookupReport? {
        guard case .lookup(let report) = try await perform({ .lookup($0, target) }) else { return nil }
        return report
    }

    /// Stores a record on the closest nodes; returns how many acknowledged it.
    public func put(_ record: Record) async throws -> (acks: Int, attempted: Int, rejections: [RecordRejection: Int]) {
        guard case .put(let acks, let attempted, let rejections, _) = try await perform({ .put($0, record) }) else { return (0, 0, [:]) }
        return (acks, attempted, rejections)
    }

    public func get(_ key: RecordKey) async throws -> [Record] {
        guard case .get(let records, _) = try await perform({ .get($0, key) }) else { return [] }
        return records
    }

    /// Subscribes to a key; changes arrive on `notifications` (its current values first).
    /// Returns how many holders granted a lease.
    @discardableResult
    public func subscribe(_ key: RecordKey) async throws -> Int {
        guard case .subscribed(let holders) = try await perform({ .subscribe($0, key) }) else { return 0 }
        return holders
    }

    public func unsubscribe(_ key: RecordKey) async throws {
        _ = try await bound.futureResult.get()
        let handler = self.handler
        try await eventLoop.submit { handler.start({ _ in .unsubscribe(key) }, promise: nil) }.get()
    }

    /// The contacts of the routing table (what a restart can join through again).
    public func contacts() async throws -> [Contact] {
        let handler = self.handler
        return try await eventLoop.submit { handler.contacts }.get()
    }

    public func snapshot() async throws -> PeerSnapshot {
        let handler = self.handler
        return try await eventLoop.submit { handler.snapshot }.get()
    }

    /// A copy of the DHT node (routing table, store, lookups) and the node's `now`: for
    /// status pages (`GET /api/v1/dht`), read on the node's event loop.
    public func inspect() async throws -> (node: DHTNode, now: Instant) {
        let handler = self.handler
        return try await eventLoop.submit { handler.inspection }.get()
    }

    private func perform(_ command: @escaping @Sendable (RequestID) -> Command) async throws -> Outcome {
        _ = try await bound.futureResult.get()
        let handler = self.handler
        let promise = eventLoop.makePromise(of: Outcome.self)
        eventLoop.execute { handler.start(command, promise: promise) }
        return try await promise.futureResult.get()
    }
}
