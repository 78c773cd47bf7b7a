import NIOCore
import NIOPosix
import SIP
import Synchronization

/// Looks an AoR up across the overlay; the gateway backs it with the DHT (`sip/<AoR>`).
public typealias SIPLookup = @Sendable (SIPAddressOfRecord) async -> [SIPContact]
/// Looks up every AoR with this user part (`sip:alice@<gateway>`): held and imported UAs.
public typealias SIPUserLookup = @Sendable ([UInt8]) async -> [SIPContact]

/// Where and how the SIP redirect server listens.
public struct SIPServerConfiguration: Hashable, Sendable {
    /// `::` (the default) listens dual-stack, IPv6 and IPv4; where IPv6 is off the server
    /// falls back to `0.0.0.0`.
    public var host: String
    /// UDP and TCP both bind this port; 0 picks a free one each (tests).
    public var port: Int
    public var transports: Set<SIPSource.Transport>
    /// Lookups running at once; more get `503` with Retry-After.
    public var maximumConcurrentLookups: Int
    /// Open TCP connections; more are closed on accept.
    public var maximumConnections: Int
    /// Open TCP connections from one source address: one host cannot take every slot
    /// (issue 18: 256 idle connections from one host refused a caller from another island).
    public var maximumConnectionsPerSource: Int
    /// A TCP connection that sends nothing for this long is closed, so idle peers cannot hold
    /// every connection slot (RFC 5626 keep-alives, CRLF pairs, count as traffic).
    public var connectionIdleTimeout: TimeAmount
    /// SO_RCVBUF of the UDP socket: room for bursts while the loop is busy (the kernel caps it
    /// at net.core.rmem_max).
    public var udpReceiveBufferBytes: Int
    /// UDP answers to one source address (loopback excepted): a rate and a burst. A UDP
    /// source can be forged, and an answer is larger than the request, so without a cap the
    /// server would flood whoever a forger names (issue 18: spoofed OPTIONS at 20,000/s drew
    /// answers at 1.6 times the bytes). Far above what a phone sends.
    public var udpRepliesPerSecondPerSource: Double
    public var udpReplyBurstPerSource: Double
    public var redirect: RedirectService.Configuration

    public init(
        host: String = "::", port: Int = 5060, transports: Set<SIPSource.Transport> = [.udp, .tcp],
        maximumConcurrentLookups: Int = 512, maximumConnections: Int = 256, maximumConnectionsPerSource: Int = 32,
        connectionIdleTimeout: TimeAmount = .seconds(120), udpReceiveBufferBytes: Int = 4 << 20,
        udpRepliesPerSecondPerSource: Double = 50, udpReplyBurstPerSource: Double = 100,
        redirect: RedirectService.Configuration = .init()
    ) {
        self.host = host
        self.port = port
        self.transports = transports
        self.maximumConcurrentLookups = maximumConcurrentLookups
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerSource = maximumConnectionsPerSource
        self.connectionIdleTimeout = connectionIdleTimeout
        self.udpReceiveBufferBytes = udpReceiveBufferBytes
        self.udpRepliesPerSecondPerSource = udpRepliesPerSecondPerSource
        self.udpReplyBurstPerSource = udpReplyBurstPerSource
        self.redirect = redirect
    }
}

/// The ports the server actually bound (differs from the configuration when it asked for 0).
public struct SIPServerAddresses: Hashable, Sendable {
    public var udp: SocketAddress?
    public var tcp: SocketAddress?
}

/// The SIP redirect service on UDP and TCP sockets: a thin SwiftNIO shell around
/// `RedirectService`. It frames bytes, runs lookups as child tasks of `run()`, sends what the
/// service decides, and counts; bad input costs a counter increment, never a crash.
public final class SIPServer: Sendable {
    public let configuration: SIPServerConfiguration
    public let metrics = SIPServerMetrics()
    private let lookup: SIPLookup
    private let userLookup: SIPUserLookup?
    private let onRegistrations: @Sendable ([RegistrarChange]) -> Void
    private let group: any EventLoopGroup
    private let running = Mutex<SIPServerCore?>(nil)

    public init(
        configuration: SIPServerConfiguration = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        userLookup: SIPUserLookup? = nil,
        onRegistrations: @escaping @Sendable ([RegistrarChange]) -> Void = { _ in },
        lookup: @escaping SIPLookup
    ) {
        self.configuration = configuration
        self.group = group
        self.lookup = lookup
        self.userLookup = userLookup
        self.onRegistrations = onRegistrations
    }

    /// The contacts being probed and their health (empty when not running or not probing).
    public func contacts() -> [ContactProber.Entry] {
        running.withLock { $0 }?.contacts() ?? []
    }

    /// Checks these contacts (with OPTIONS, like those handed out) from now on, and answers
    /// their health: how the home leader finds its own UAs that stopped answering. Empty when
    /// not running or not probing.
    public func watch(_ contacts: [SIPURI]) -> [SIPHop: ContactProber.Health] {
        running.withLock { $0 }?.watch(contacts) ?? [:]
    }

    /// The registrar's bindings now (empty when not running or without registrar).
    public func registrations() -> [SIPAddressOfRecord: [Registrar.Binding]] {
        running.withLock { $0 }?.registrations() ?? [:]
    }

    /// Binds, reports the bound addresses through `onReady`, and serves until the task is
    /// cancelled; then closes its sockets and returns. Lookups in flight finish first.
    public func run(onReady: @Sendable (SIPServerAddresses) -> Void = { _ in }) async throws {
        let (jobs, continuation) = AsyncStream.makeStream(of: SIPServerCore.LookupJob.self)
        let core = SIPServerCore(configuration: configuration, metrics: metrics, lookup: lookup, userLookup: userLookup,
                                 onRegistrations: onRegistrations, jobs: continuation)
        var channels: [any Channel] = []
        var addresses = SIPServerAddresses()
        // Dual-stack on `::`; a host without IPv6 gets the IPv4 wildcard instead.
        var host = configuration.host
        do {
            if configuration.transports.contains(.udp) {
                let bootstrap = DatagramBootstrap(group: group)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                    .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(configuration.udpReceiveBufferBytes))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(SIPDatagramHandler(core: core))
                        }
                    }
                let channel: any Channel
                do {
                    channel = try await bootstrap.bind(host: host, port: configuration.port).get()
                } catch where host == "::" {
                    host = "0.0.0.0"
                    channel = try await bootstrap.bind(host: host, port: configuration.port).get()
                }
                channels.append(channel)
                addresses.udp = channel.localAddress
                core.adopt(datagramChannel: channel, port: channel.localAddress?.port ?? configuration.port)
            }
            if configuration.transports.contains(.tcp) {
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 256)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandlers(
                                IdleStateHandler(readTimeout: core.configuration.connectionIdleTimeout),
                                SIPStreamHandler(core: core))
                        }
                    }
                    .bind(host: host, port: configuration.port).get()
                channels.append(channel)
                addresses.tcp = channel.localAddress
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        onReady(addresses)
        running.withLock { $0 = core }
        defer { running.withLock { $0 = nil } }
        let ticking = configuration.redirect.routing.map { $0.registrar != nil || $0.probing != nil } ?? false
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                if ticking {
                    group.addTask {
                        // Probes and expiries are due to the quarter second; changes are announced at once.
                        while (try? await Task.sleep(for: .milliseconds(250))) != nil { core.tick() }
                    }
                }
                for await job in jobs {
                    group.addTask { await core.process(job) }
                }
                group.cancelAll()
            }
        } onCancel: {
            continuation.finish()
        }
        for channel in channels { try? await channel.close() }
    }
}
