import NIOCore
import Primitives
import SIP
import Synchronization

/// The part of the server both transports share: the redirect service behind a lock, admission
/// of lookups, and the counters. It decides nothing itself — `RedirectService` does.
final class SIPServerCore: Sendable {
    struct LookupJob: Sendable {
        let query: RedirectQuery
        let reply: @Sendable ([UInt8]) -> Void
    }

    let configuration: SIPServerConfiguration
    let metrics: SIPServerMetrics
    let lookup: SIPLookup
    let userLookup: SIPUserLookup?
    let onRegistrations: @Sendable ([RegistrarChange]) -> Void
    private let service: Mutex<RedirectService>
    /// Answers need no state: a separate copy avoids taking the lock after a lookup.
    private let answering: RedirectService
    private let jobs: AsyncStream<LookupJob>.Continuation
    /// Open TCP connections, in all and by source address.
    private let connections = Mutex<(total: Int, bySource: [String: Int])>((0, [:]))
    /// Answers over UDP per source address, and when the server started (the limiter's clock).
    private let replies: Mutex<SourceRateLimiter<String>>
    private let started = ContinuousClock.now
    /// The UDP socket forwarded requests and relayed responses leave through.
    private let datagrams = Mutex<(channel: any Channel, ipv6: Bool)?>(nil)

    init(configuration: SIPServerConfiguration, metrics: SIPServerMetrics, lookup: @escaping SIPLookup,
         userLookup: SIPUserLookup? = nil, onRegistrations: @escaping @Sendable ([RegistrarChange]) -> Void = { _ in },
         jobs: AsyncStream<LookupJob>.Continuation) {
        self.configuration = configuration
        self.metrics = metrics
        self.lookup = lookup
        self.userLookup = userLookup
        self.onRegistrations = onRegistrations
        self.service = Mutex(RedirectService(configuration: configuration.redirect))
        self.answering = RedirectService(configuration: configuration.redirect)
        self.jobs = jobs
        // No total cap: the per-source one is what stops amplification, and a total one would
        // let a flood from one host silence answers to everyone else.
        replies = Mutex(SourceRateLimiter(.init(perSource: configuration.udpRepliesPerSecondPerSource,
                                                sourceBurst: configuration.udpReplyBurstPerSource,
                                                total: .infinity, totalBurst: .infinity, sources: 4_096)))
    }

    /// Whether a UDP answer may go to `address` now; counted when not. Loopback is exempt
    /// (nobody can forge it from outside the host, and local tools and benchmarks use it).
    func admitReply(to address: SocketAddress) -> Bool {
        guard let ip = address.ipAddress, !Self.isLoopback(ip) else { return true }
        let now = Instant(elapsed: started.duration(to: .now))
        let verdict = replies.withLock { $0.admit(ip, now: now) }
        guard verdict == .admitted else {
            metrics.replyRateLimited()
            return false
        }
        return true
    }

    static func isLoopback(_ ip: String) -> Bool {
        ip == "::1" || ip.hasPrefix("127.") || ip.lowercased().hasPrefix("::ffff:127.")
    }

    /// The UDP channel is bound (on `port`, which replaces a configured 0 in the node identity).
    func adopt(datagramChannel channel: any Channel, port: Int) {
        let ipv6 = channel.localAddress?.protocol == .inet6
        datagrams.withLock { $0 = (channel, ipv6) }
        guard var routing = configuration.redirect.routing, routing.identity.port == 0 else { return }
        routing.identity.port = UInt16(clamping: port)
        var redirect = configuration.redirect
        redirect.routing = routing
        service.withLock { $0 = RedirectService(configuration: redirect) }
    }

    /// The periodic work: expired registrations, contact probes, dead phones' bindings.
    func tick() {
        let now = ContinuousClock.now
        let (probes, changes) = service.withLock { $0.tick(now: now) }
        for probe in probes { send(probe, counted: false) }
        if !changes.isEmpty { onRegistrations(changes) }
    }

    /// Checks these contacts from now on and answers their health.
    func watch(_ contacts: [SIPURI]) -> [SIPHop: ContactProber.Health] {
        let now = ContinuousClock.now
        return service.withLock { $0.watch(contacts, now: now) }
    }

    /// The contacts being probed and their health.
    func contacts() -> [ContactProber.Entry] {
        service.withLock { ($0.prober?.entries.values).map(Array.init) ?? [] }
    }

    /// The registrar's bindings now.
    func registrations() -> [SIPAddressOfRecord: [Registrar.Binding]] {
        service.withLock { $0.registrar?.bindings ?? [:] }
    }

    /// Handles one datagram or one framed stream message; `reply` sends bytes back to the source.
    func receive(_ bytes: [UInt8], from source: SIPSource, reply: @escaping @Sendable ([UInt8]) -> Void) {
        let now = ContinuousClock.now
        let step = service.withLock { $0.receive(bytes, from: source, now: now) }
        carryOut(step, reply: reply)
    }

    private func carryOut(_ step: RedirectStep, reply: @escaping @Sendable ([UInt8]) -> Void) {
        switch step {
        case .respond(let response, let rejection):
            if let rejection { metrics.rejected(rejection) }
            send(response, reply)
        case .drop(let rejection):
            if let rejection { metrics.rejected(rejection) } else { metrics.acknowledged() }
        case .lookup(let query):
            guard metrics.startLookup(limit: configuration.maximumConcurrentLookups) else {
                metrics.rejected(.overloaded)
                send(answering.unavailable(query), reply)
                return
            }
            if case .terminated = jobs.yield(LookupJob(query: query, reply: reply)) {
                metrics.finishLookup()
                send(answering.unavailable(query), reply)
            }
        case .forward(let outbound):
            send(outbound)
        case .registered(let response, let changes, let refusal):
            metrics.registration(refusal: refusal)
            send(response, reply)
            if !changes.isEmpty { onRegistrations(changes) }
        case .probeAnswer:
            metrics.probeAnswered()
        }
    }

    /// Runs one lookup (a child task of `SIPServer.run`) and answers.
    func process(_ job: LookupJob) async {
        let contacts: [SIPContact]
        if job.query.byUser, let userLookup {
            contacts = await userLookup(job.query.addressOfRecord.userBytes ?? [])
        } else {
            contacts = await lookup(job.query.addressOfRecord)
        }
        metrics.finishLookup()
        let now = ContinuousClock.now
        let step = service.withLock { $0.complete(job.query, contacts: contacts, now: now) }
        carryOut(step, reply: job.reply)
    }

    /// Sends a forwarded request or relayed response from the UDP socket. Only IP hops: a name
    /// would need a resolver call on the event loop.
    func send(_ outbound: SIPOutbound, counted: Bool = true) {
        guard let (channel, ipv6) = datagrams.withLock({ $0 }),
              let address = Self.socketAddress(outbound.hop, ipv6: ipv6) else {
            if counted { metrics.forwardFailed() }
            return
        }
        if counted { metrics.forwarded() } else { metrics.probed() }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: outbound.bytes)), promise: nil)
    }

    static func socketAddress(_ hop: SIPHop, ipv6 socket: Bool) -> SocketAddress? {
        switch hop.host {
        case .ipv4(let value):
            let text = SIPHost.ipv4(value).description
            return try? SocketAddress(ipAddress: socket ? "::ffff:" + text : text, port: Int(hop.port))
        case .ipv6:
            guard socket else { return nil }
            let text = hop.host.description.dropFirst().dropLast()
            return try? SocketAddress(ipAddress: String(text), port: Int(hop.port))
        case .name:
            return nil
        }
    }

    private func send(_ response: SIPResponse, _ reply: @Sendable ([UInt8]) -> Void) {
        metrics.responded(response.statusCode)
        reply(response.serialized())
    }

    /// Takes a connection slot for a connection from `source` (its address without the
    /// port), unless all are taken or that source holds its share.
    func admitConnection(from source: String) -> Bool {
        let admitted = connections.withLock { open in
            guard open.total < configuration.maximumConnections,
                  open.bySource[source, default: 0] < configuration.maximumConnectionsPerSource else { return false }
            open.total += 1
            open.bySource[source, default: 0] += 1
            return true
        }
        if admitted { metrics.connectionAccepted() } else { metrics.connectionRefused() }
        return admitted
    }

    func releaseConnection(from source: String) {
        connections.withLock { open in
            open.total -= 1
            let left = open.bySource[source, default: 1] - 1
            open.bySource[source] = left > 0 ? left : nil
        }
    }

    static func source(_ address: SocketAddress?, transport: SIPSource.Transport) -> SIPSource {
        let port = UInt16(clamping: address?.port ?? 0)
        var host = SIPHost.ipv4(0)
        if var ip = address?.ipAddress {
            // An IPv4 peer on the dual-stack socket shows as ::ffff:a.b.c.d.
            if ip.lowercased().hasPrefix("::ffff:"), ip.contains(".") { ip = String(ip.dropFirst(7)) }
            let text = ip.contains(":") ? "[\(ip.split(separator: "%").first.map(String.init) ?? ip)]" : ip
            host = (try? SIPHost(parsing: text)) ?? host
        }
        return SIPSource(host: host, port: port, transport: transport)
    }
}
