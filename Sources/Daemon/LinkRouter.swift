import DNSSD
import Gateway
import GatewayReports
import LocalDomain
import Logging
import Policy
import Primitives
import Z2ZAPI

/// Runs a router's `LinkExchange` against its links: one interface-scoped local domain per
/// link (Avahi browsing and publishing on that interface only) and a clock. Like
/// `GatewayDriver` it decides nothing: it feeds each link's events to the exchange and
/// carries out the publications it asks for, in order per link.
///
/// `run()` owns every task as a child — one reading each link's events, one ticking at the
/// exchange's deadlines, one carrying out each link's publications. When it is cancelled it
/// withdraws everything it published (mDNS goodbyes on every link).
public actor LinkRouter {
    /// A link's state with its responder, for the reports.
    public struct Snapshot: Sendable {
        public var exchange: LinkExchange
        public var responders: [ConnectionState]
        public var events: EventLog
        public var started: ContinuousClock.Instant
        /// Per link, publications avahi-daemon refused and why (tried again meanwhile).
        public var refused: [[ImportKey: String]] = []
    }

    private enum Operation: Sendable {
        case publish(ImportKey, Publication)
        case update(ImportKey, Publication)
        case withdraw(ImportKey)
        /// A refused publication is due for another attempt (`RefusedImports`).
        case retry(ImportKey)
    }

    private var exchange: LinkExchange
    private let domains: [any LocalDomain]
    private var responders: [ConnectionState]
    private var eventLog = EventLog()
    private let onEvent: @Sendable (GatewayEvent) -> Void
    private let logger: Logger
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    private let queues: [(stream: AsyncStream<Operation>, continuation: AsyncStream<Operation>.Continuation)]
    /// Our publications on each link, by import key, and back.
    private var publications: [[ImportKey: PublicationID]]
    private var keys: [[PublicationID: ImportKey]]
    private var sleeper: Task<Void, any Error>?
    /// What each of our publications is called on its link, for the repeated goodbye.
    private var names: [[ImportKey: (ServiceID, [Subtype])]]
    /// Per link: what the exchange wants published there (the latest of each), and what
    /// avahi-daemon refused of it, tried again after 1, 2, 4 … 60 s and at once when room frees.
    private var wanted: [[ImportKey: Publication]]
    private var refusals: [RefusedImports]
    /// Goodbyes to repeat (link, datagram, when), in the order they are due.
    private let repeats: (stream: AsyncStream<(Int, [UInt8], ContinuousClock.Instant)>,
                          continuation: AsyncStream<(Int, [UInt8], ContinuousClock.Instant)>.Continuation)
    private let sendGoodbye: (@Sendable (Int, [UInt8]) -> Void)?
    /// How long after a withdrawal its goodbye is said again: long past avahi-daemon's
    /// delayed answers (up to 120 ms), and half a second past the hosts' one-second goodbye
    /// hold. Avahi starts that hold again at every goodbye it hears (avahi-core/cache.c,
    /// `expire_in_one_second`), so a repeat at 1.0 s that reached a host a few milliseconds
    /// before its timer fired kept the service there a second longer: withdraw p95 1.003 s
    /// with the CPU busy (BENCHMARKS.md, router mode). Where the first goodbye was undone
    /// (a delayed answer), the repeat still drops the service within 2 s of its own link.
    static let goodbyeRepeat = Duration.milliseconds(1_500)

    /// - Parameter domains: one per link of `exchange`, in its order.
    /// - Parameter sendGoodbye: sends a datagram on a link (`MDNSSender`): the PTR goodbye
    ///   of a withdrawn publication, at once and again `goodbyeRepeat` later. Measured on the
    ///   testbed (avahi 0.8): avahi-daemon sent no goodbye at all when an interface-scoped
    ///   entry group of ours was freed (the hosts of that link kept the service until
    ///   its PTR expired, 75 minutes), and it may answer a query with the PTR right after a
    ///   goodbye; the repeat covers that.
    public init(exchange: LinkExchange, domains: [any LocalDomain], onEvent: @escaping @Sendable (GatewayEvent) -> Void = { _ in },
                sendGoodbye: (@Sendable (Int, [UInt8]) -> Void)? = nil, logger: Logger = Logger(label: "z2z.router")) {
        precondition(exchange.links.count == domains.count, "one local domain per link")
        self.exchange = exchange
        self.domains = domains
        self.onEvent = onEvent
        self.logger = logger
        origin = clock.now
        responders = domains.map { _ in .connecting("starting") }
        queues = domains.map { _ in AsyncStream.makeStream(of: Operation.self) }
        publications = domains.map { _ in [:] }
        keys = domains.map { _ in [:] }
        names = domains.map { _ in [:] }
        wanted = domains.map { _ in [:] }
        refusals = domains.map { _ in RefusedImports() }
        repeats = AsyncStream.makeStream(of: (Int, [UInt8], ContinuousClock.Instant).self)
        self.sendGoodbye = sendGoodbye
    }

    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for link in domains.indices {
                group.addTask { await self.read(link) }
                group.addTask { await self.carryOut(link) }
            }
            group.addTask { await self.tick() }
            group.addTask { await self.repeatGoodbyes() }
            group.addTask { await self.retryRefused() }
            await group.waitForAll()
        }
        await shutDown()
    }

    public func snapshot() -> Snapshot {
        Snapshot(exchange: exchange, responders: responders, events: eventLog, started: origin,
                 refused: refusals.map { $0.refusals.mapValues(\.reason) })
    }

    public func events(after sequence: UInt64) -> EventsResponse {
        EventsResponse(events: eventLog.events(after: sequence), last: eventLog.last)
    }

    /// A new policy (configuration reload): every crossing is decided again.
    public func setPolicy(_ policy: Policy) {
        perform(exchange.setPolicy(policy))
    }

    /// Whether link `link` is the exchange's: its gateway leads the link's island (`LinkExchange.setLed`).
    public func setLed(_ link: Int, _ led: Bool) {
        guard exchange.links.indices.contains(link), exchange.isLed(link) != led else { return }
        logger.info(led ? "link led by this box: exchanged in process" : "link led by another gateway: left to it",
                    metadata: ["link": "\(exchange.links[link].name)"])
        handle(exchange.setLed(link, led, now: now))
    }

    private var now: Instant { Instant(elapsed: origin.duration(to: clock.now)) }

    // MARK: inputs

    private func read(_ link: Int) async {
        for await event in domains[link].events {
            guard !Task.isCancelled else { return }
            switch event {
            case .connection(let state):
                if responders[link] != state {
                    responders[link] = state
                    if case .running = state { refusals[link].capacityMayHaveFreed(now: now) }
                    logger.info("link responder", metadata: ["link": "\(exchange.links[link].name)", "state": "\(state)"])
                }
            case .removed(let id):
                logger.debug("service gone from a link", metadata: ["link": "\(exchange.links[link].name)", "service": "\(id)"])
            case .publication(let id, .renamed(_, let name)):
                if let key = keys[link][id] { exchange.renamed(key, to: name, on: link) }
            case .publication(let id, .failed(let reason)):
                // Dropped after it was accepted: kept for another attempt like a refusal.
                if let key = keys[link].removeValue(forKey: id) {
                    publications[link][key] = nil
                    if let publication = wanted[link][key] { refused(key, publication, reason: reason, on: link) }
                }
            default:
                break
            }
            handle(exchange.observe(event, on: link, now: now))
        }
    }

    private func tick() async {
        while !Task.isCancelled {
            let deadline = exchange.nextDeadline.map { origin + .nanoseconds(Int64(clamping: $0.nanoseconds)) }
                ?? clock.now.advanced(by: .seconds(1))
            let sleep = Task { try await Task.sleep(until: deadline, clock: .continuous) }
            sleeper = sleep
            await withTaskCancellationHandler { _ = await sleep.result } onCancel: { sleep.cancel() }
            sleeper = nil
            if Task.isCancelled { return }
            handle(exchange.tick(now: now))
        }
    }

    /// Carries out effects; wakes the ticker when a service starts settling (a new deadline).
    private func handle(_ effects: [LinkExchange.Effect]) {
        perform(effects)
        if exchange.nextDeadline != nil { sleeper?.cancel() }
    }

    private func perform(_ effects: [LinkExchange.Effect]) {
        for effect in effects {
            switch effect {
            case .publish(let link, let key, let publication):
                queues[link].continuation.yield(.publish(key, publication))
            case .update(let link, let key, let publication):
                queues[link].continuation.yield(.update(key, publication))
            case .withdraw(let link, let key):
                queues[link].continuation.yield(.withdraw(key))
            case .fact(let link, let fact):
                record(fact, on: link)
            }
        }
    }

    private func record(_ fact: GatewayFact, on link: Int) {
        if case .importHeld(let key, let hold) = fact {
            logger.debug("kept off a link", metadata: [
                "link": "\(exchange.links[link].name)", "service": "\(key)", "reason": "\(hold.reason)",
            ])
        }
        if let event = eventLog.append(fact) { onEvent(event) }
    }

    // MARK: publications

    private func carryOut(_ link: Int) async {
        for await operation in queues[link].stream {
            await carryOut(operation, on: link)
        }
    }

    private func carryOut(_ operation: Operation, on link: Int) async {
        let domain = domains[link]
        do {
            switch operation {
            case .publish(let key, let publication):
                wanted[link][key] = publication
                try await publish(key, publication, on: link)
            case .retry(let key):
                // Withdrawn or published meanwhile: nothing to try.
                guard let publication = wanted[link][key], publications[link][key] == nil else { return }
                try await publish(key, publication, on: link)
            case .update(let key, let publication):
                wanted[link][key] = publication
                if refusals[link].updated(key, to: publication) { return }
                guard let id = publications[link][key] else { return }
                try await domain.update(id, to: publication)
                names[link][key] = (publication.id, publication.subtypes)
            case .withdraw(let key):
                wanted[link][key] = nil
                refusals[link].withdrawn(key)
                guard let id = publications[link].removeValue(forKey: key) else { return }
                keys[link][id] = nil
                await domain.withdraw(id)
                refusals[link].capacityMayHaveFreed(now: now) // its objects are free again
                if let sendGoodbye, let (name, subtypes) = names[link].removeValue(forKey: key) {
                    let packet = MDNSGoodbyes.packet(for: name, subtypes: subtypes)
                    sendGoodbye(link, packet)
                    repeats.continuation.yield((link, packet, clock.now + Self.goodbyeRepeat))
                }
            }
        } catch {
            logger.warning("publication on a link failed", metadata: [
                "link": "\(exchange.links[link].name)", "operation": "\(operation)", "reason": "\(error)",
            ])
            onEvent(eventLog.append(.failed, reason: "publication_failed_\(error.reason)", message: "publication failed: \(error)"))
        }
    }

    /// Publishes on a link; a refusal is kept for another attempt, said once when it starts
    /// and once when it ends.
    private func publish(_ key: ImportKey, _ publication: Publication, on link: Int) async throws(PublishError) {
        do throws(PublishError) {
            let id = try await domains[link].publish(publication)
            publications[link][key] = id
            keys[link][id] = key
            names[link][key] = (publication.id, publication.subtypes)
            if let ended = refusals[link].published(key) {
                logger.info("refused publication published on a retry", metadata: [
                    "link": "\(exchange.links[link].name)", "service": "\(key)", "attempts": "\(ended.attempts + 1)",
                ])
                onEvent(eventLog.append(.imported, subject: GatewayEvents.subject(key.name, key.type), reason: "published_on_retry",
                                        message: "avahi-daemon accepted it on link \(exchange.links[link].name) on attempt \(ended.attempts + 1)"))
            }
        } catch .refused(_, let message) {
            refused(key, wanted[link][key] ?? publication, reason: message, on: link)
        }
    }

    private func refused(_ key: ImportKey, _ publication: Publication, reason: String, on link: Int) {
        let first = refusals[link].refused(key, publication, reason: reason, now: now)
        guard first else { return }
        logger.warning("publication refused by avahi-daemon", metadata: [
            "link": "\(exchange.links[link].name)", "service": "\(key)", "reason": "\(reason)",
        ])
        onEvent(eventLog.append(.failed, subject: GatewayEvents.subject(key.name, key.type), reason: "import_refused",
                                message: "avahi-daemon refused it on link \(exchange.links[link].name): \(reason); trying again with backoff, sooner when room frees"))
    }

    /// Hands refused publications to their link's queue when due (at most a second late).
    private func retryRefused() async {
        while !Task.isCancelled {
            let now = now
            for link in refusals.indices {
                for (key, _) in refusals[link].takeDue(now: now) { queues[link].continuation.yield(.retry(key)) }
            }
            let wait = refusals.compactMap(\.nextDue).min().map { $0.since(now) } ?? .seconds(1)
            try? await clock.sleep(for: .nanoseconds(Int64(clamping: min(wait, .seconds(1)).nanoseconds)))
        }
    }

    private func repeatGoodbyes() async {
        for await (link, bytes, due) in repeats.stream {
            do { try await Task.sleep(until: due, clock: .continuous) } catch { return }
            sendGoodbye?(link, bytes)
        }
    }

    /// Goodbyes on every link for everything published there.
    private func shutDown() async {
        repeats.continuation.finish()
        for link in domains.indices {
            queues[link].continuation.finish()
            for id in publications[link].values.sorted() { await domains[link].withdraw(id) }
            // Our own goodbyes too, as for every withdrawal (see `sendGoodbye`).
            for (name, subtypes) in names[link].values { sendGoodbye?(link, MDNSGoodbyes.packet(for: name, subtypes: subtypes)) }
            publications[link] = [:]
            keys[link] = [:]
            names[link] = [:]
        }
    }
}
