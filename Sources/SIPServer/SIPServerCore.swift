import NIOCore
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
    private let service: Mutex<RedirectService>
    /// Answers need no state: a separate copy avoids taking the lock after a lookup.
    private let answering: RedirectService
    private let jobs: AsyncStream<LookupJob>.Continuation
    private let connections = Mutex(0)

    init(configuration: SIPServerConfiguration, metrics: SIPServerMetrics, lookup: @escaping SIPLookup,
         jobs: AsyncStream<LookupJob>.Continuation) {
        self.configuration = configuration
        self.metrics = metrics
        self.lookup = lookup
        self.service = Mutex(RedirectService(configuration: configuration.redirect))
        self.answering = RedirectService(configuration: configuration.redirect)
        self.jobs = jobs
    }

    /// Handles one datagram or one framed stream message; `reply` sends bytes back to the source.
    func receive(_ bytes: [UInt8], from source: SIPSource, reply: @escaping @Sendable ([UInt8]) -> Void) {
        let now = ContinuousClock.now
        let step = service.withLock { $0.receive(bytes, from: source, now: now) }
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
        }
    }

    /// Runs one lookup (a child task of `SIPServer.run`) and answers.
    func process(_ job: LookupJob) async {
        let contacts = await lookup(job.query.addressOfRecord)
        metrics.finishLookup()
        send(answering.answer(job.query, contacts: contacts), job.reply)
    }

    private func send(_ response: SIPResponse, _ reply: @Sendable ([UInt8]) -> Void) {
        metrics.responded(response.statusCode)
        reply(response.serialized())
    }

    func admitConnection() -> Bool {
        let admitted = connections.withLock { count in
            guard count < configuration.maximumConnections else { return false }
            count += 1
            return true
        }
        if admitted { metrics.connectionAccepted() } else { metrics.connectionRefused() }
        return admitted
    }

    func releaseConnection() { connections.withLock { $0 -= 1 } }

    static func source(_ address: SocketAddress?, transport: SIPSource.Transport) -> SIPSource {
        let port = UInt16(clamping: address?.port ?? 0)
        var host = SIPHost.ipv4(0)
        if let ip = address?.ipAddress {
            let text = ip.contains(":") ? "[\(ip.split(separator: "%").first.map(String.init) ?? ip)]" : ip
            host = (try? SIPHost(parsing: text)) ?? host
        }
        return SIPSource(host: host, port: port, transport: transport)
    }
}
