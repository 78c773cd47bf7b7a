import DNSSD
import Gateway
import GatewayReports
import Island
import LocalDomain
import Logging
import Policy
import Primitives
import Rendezvous
import Z2ZAPI

/// Runs one `GatewayMachine` against the world: the local domain (Avahi), the UDP link
/// (heartbeats), the rendezvous (DHT) and a clock. It decides nothing; it turns events into
/// machine inputs, carries out the machine's effects in order, and keeps the facts the
/// machine states (`EventLog`) for the reports.
///
/// Structure: `run()` owns every task as a child — one reading local-domain events, one
/// reading heartbeats, one ticking at the machine's deadlines, one carrying out local-domain
/// effects in order, one carrying out rendezvous effects in order (it also reads each
/// subscription), one reporting the overlay's stage. Slow effects (a DHT put takes a
/// lookup) never hold up heartbeats. When `run()` is cancelled it withdraws what it
/// published and removes what it exported first.
public actor GatewayDriver {
    public struct Hooks: Sendable {
        /// Remember the island id (state directory).
        public var persistIsland: @Sendable (IslandID) async -> Void
        /// Every event as it is logged (metrics count them).
        public var event: @Sendable (GatewayEvent) -> Void
        /// Every rejected input, by reason: the event log keeps one per reason and window
        /// (`EventLog`), so metrics count them here.
        public var rejected: @Sendable (String) -> Void
        /// Each rendezvous operation carried out: its name (`put`, `remove`, `subscribe`, ...),
        /// how long it took, and `ok` or the failure reason (latency histograms).
        public var rendezvousOperation: @Sendable (String, Duration, String) -> Void
        /// The island's other gateways, to join the rendezvous through while leading
        /// (`GatewayMachine.Effect.seedRendezvous`; the native engine's `addSeeds`).
        public var seedRendezvous: @Sendable ([Endpoint]) -> Void
        /// Carries out what the relay needs (a connect probe, a relay listener opened or
        /// closed) and answers with the machine's event, if any. Without a relay, probes
        /// find the service reachable (imports keep its own addresses, as before the relay)
        /// and no listener opens.
        public var relay: @Sendable (RelayEffect) async -> GatewayMachine.Event?
        /// What the relay may reach on this link, as exports come and go: the exporting side
        /// of the relay answers stream requests from this (it must answer from memory).
        public var relayGrant: @Sendable (RelayGrant) -> Void
        /// Each change of the gateway's role, leader or island (a router follows which of its
        /// links its gateways lead).
        public var transition: @Sendable (Election.Transition) -> Void
        public init(persistIsland: @escaping @Sendable (IslandID) async -> Void = { _ in },
                    event: @escaping @Sendable (GatewayEvent) -> Void = { _ in },
                    rejected: @escaping @Sendable (String) -> Void = { _ in },
                    rendezvousOperation: @escaping @Sendable (String, Duration, String) -> Void = { _, _, _ in },
                    seedRendezvous: @escaping @Sendable ([Endpoint]) -> Void = { _ in },
                    relay: @escaping @Sendable (RelayEffect) async -> GatewayMachine.Event? = Hooks.noRelay,
                    relayGrant: @escaping @Sendable (RelayGrant) -> Void = { _ in },
                    transition: @escaping @Sendable (Election.Transition) -> Void = { _ in }) {
            self.persistIsland = persistIsland
            self.event = event
            self.rejected = rejected
            self.rendezvousOperation = rendezvousOperation
            self.seedRendezvous = seedRendezvous
            self.relay = relay
            self.relayGrant = relayGrant
            self.transition = transition
        }

        /// A gateway without a relay: see `relay`.
        public static let noRelay: @Sendable (RelayEffect) async -> GatewayMachine.Event? = { effect in
            switch effect {
            case .probe(let key, _, _): .probed(key, reachable: true)
            case .openRelay(let key, _): .relayOpened(key, port: nil, failure: "this gateway runs no relay")
            case .closeRelay: nil
            }
        }
    }

    private enum DomainOperation: Sendable {
        case advertise(Publication)
        case publish(ImportKey, Publication)
        case update(ImportKey, Publication)
        case withdraw(ImportKey)
        /// Not a publication, but ordered with them: the state directory's island id.
        case persist(IslandID)
        /// Ordered with the publications too: a relay listener opens before its import is
        /// published on its port, and closes after the import is withdrawn.
        case relay(RelayEffect)
        /// Another attempt at an import avahi-daemon refused (`RefusedImports`), as the
        /// machine last asked for it.
        case retry(ImportKey)
    }

    private enum RendezvousOperation: Sendable {
        case join, leave
        /// The last two: the value's generation in `putRetries`, and which attempt this is.
        case put(RecordKey, UInt64, [UInt8], generation: UInt64, attempt: Int)
        case remove(RecordKey, UInt64)
        case subscribe(RecordKey)
        case unsubscribe(RecordKey)
    }

    private var machine: GatewayMachine
    public let started: ContinuousClock.Instant
    /// Recent events, each with the fact it says.
    public private(set) var eventLog = EventLog()

    private let domain: any LocalDomain
    private let rendezvous: any Rendezvous
    private let link: any DatagramLink
    private let hooks: Hooks
    private let logger: Logger
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    private let overlayInterval: Duration
    private let domainQueue: (stream: AsyncStream<DomainOperation>, continuation: AsyncStream<DomainOperation>.Continuation)
    private let rendezvousQueue: (stream: AsyncStream<RendezvousOperation>, continuation: AsyncStream<RendezvousOperation>.Continuation)
    /// Connect probes, carried out side by side (each is bounded): a slow one holds up no publication.
    private let probeQueue: (stream: AsyncStream<RelayEffect>, continuation: AsyncStream<RelayEffect>.Continuation)
    /// At most this many probes at once.
    private static let concurrentProbes = 64
    /// Our local-domain publications: the advert, and imports by their key.
    private var publicationIDs: [ImportKey: PublicationID] = [:]
    private var importsByPublication: [PublicationID: ImportKey] = [:]
    private var advertID: PublicationID?
    /// The advert avahi-daemon refused, why, and how many times in a row (tried again with
    /// `RefusedImports`' backoff: without it the link's other gateways never find this one).
    private var advertRefusal: String?
    private var advertAttempts = 0
    /// Failed puts tried again after a short backoff, unless superseded.
    private var putRetries = PutRetries()
    /// Imports avahi-daemon refused, tried again until published or withdrawn.
    private var refusedImports = RefusedImports()
    /// What each import was last published as: a publication the daemon drops later (its
    /// group failed) is tried again as it was.
    private var importPublications: [ImportKey: Publication] = [:]
    /// The ticker's current sleep; cancelled when a new deadline may be earlier.
    private var sleeper: Task<Void, any Error>?

    /// - Parameter overlayInterval: how often the rendezvous is asked for the overlay's stage.
    public init(machine: GatewayMachine, domain: any LocalDomain, rendezvous: any Rendezvous, link: any DatagramLink,
                hooks: Hooks = Hooks(), overlayInterval: Duration = .seconds(1), logger: Logger = Logger(label: "z2z.gateway")) {
        self.machine = machine
        self.domain = domain
        self.rendezvous = rendezvous
        self.link = link
        self.hooks = hooks
        self.overlayInterval = overlayInterval
        self.logger = logger
        origin = clock.now
        started = origin
        domainQueue = AsyncStream.makeStream(of: DomainOperation.self)
        rendezvousQueue = AsyncStream.makeStream(of: RendezvousOperation.self)
        probeQueue = AsyncStream.makeStream(of: RelayEffect.self)
    }

    /// Runs until the calling task is cancelled, then shuts the gateway's part down cleanly.
    public func run() async {
        handle(.tick)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.readLocalDomain() }
            group.addTask { await self.readHeartbeats() }
            group.addTask { await self.tick() }
            group.addTask { await self.watchOverlay() }
            group.addTask { await self.carryOutDomainOperations() }
            group.addTask { await self.carryOutRendezvousOperations() }
            group.addTask { await self.carryOutProbes() }
            group.addTask { await self.retryRefusedImports() }
            // Cancelling run() cancels these children; each ends its loop.
            await group.waitForAll()
        }
        await shutDown()
    }

    /// The machine's view and the recent facts, read at one moment (for the reports).
    public func snapshot() -> Snapshot {
        let now = now
        let refused = refusedImports.refusals.mapValues { refusal in
            ImportRefusal(reason: refusal.reason, attempts: refusal.attempts, retryInSeconds: refusal.due.since(now).seconds)
        }
        return Snapshot(view: machine.view, events: eventLog, started: started, refusedImports: refused,
                        advertRefusal: advertRefusal)
    }

    /// A new policy (configuration reload): exports and imports are decided again, and what
    /// it no longer permits is removed and withdrawn.
    public func setPolicy(_ policy: Policy) {
        for effect in machine.setPolicy(policy) { perform(effect) }
    }

    /// Islands whose services reach the link another way (a router's other links it leads).
    public func setSiblingIslands(_ islands: Set<IslandID>) {
        for effect in machine.setSiblingIslands(islands) { perform(effect) }
    }

    /// The link's SIP user agents whose contacts all stopped answering OPTIONS (the contact
    /// checks' whole set): their exports are removed, and put again once they answer.
    public func setNotAnswering(_ services: Set<ServiceID>) {
        for effect in machine.setNotAnswering(services) { perform(effect) }
    }

    /// A relay effect answered later than its effect was carried out (a relay listener opened
    /// once a leader behind NAT dialled in).
    public func relayEvent(_ event: GatewayMachine.Event) { handle(event) }

    /// Who leads the other islands, where their relays listen, and the gate imports pass: what
    /// a circuit relay through this leader may carry, and which it may use (`CircuitTable`).
    public func circuitTable() -> CircuitTable {
        let view = machine.view
        guard view.isLeading else { return CircuitTable() }
        let others = view.otherIslands
        return CircuitTable(leaders: Dictionary(others.map { ($0.island, ($0.leader, $0.name)) }, uniquingKeysWith: { a, _ in a }),
                            relays: Dictionary(others.map { ($0.leader, $0.relay) }, uniquingKeysWith: { a, _ in a }),
                            gate: view.gate)
    }

    /// The interfaces of this gateway's LAN (where its own advert is seen).
    public func lanInterfaces() -> [InterfaceIndex] { machine.view.lanInterfaces }

    /// This gateway's LAN as the daemon found it, and the relay offer made on it
    /// (`GatewayMachine.setRelayNetwork`).
    public func setRelayNetwork(offer: RelayOffer?, localPrefixes: [IPPrefix], localAddresses: [IPAddress]) {
        for effect in machine.setRelayNetwork(offer: offer, localPrefixes: localPrefixes, localAddresses: localAddresses) {
            perform(effect)
        }
    }

    /// The machine's current `Instant` (nanoseconds since the driver started).
    private var now: Instant { Instant(elapsed: origin.duration(to: clock.now)) }

    // MARK: inputs

    private func readLocalDomain() async {
        for await event in domain.events {
            guard !Task.isCancelled else { return }
            if case .publication(let id, let state) = event { publicationChanged(id, state) }
            if case .connection(.running) = event { refusedImports.capacityMayHaveFreed(now: now) }
            handle(.local(event))
        }
    }

    private func readHeartbeats() async {
        for await datagram in link.heartbeats {
            guard !Task.isCancelled else { return }
            handle(.heartbeat(datagram.bytes, from: datagram.from))
        }
    }

    /// Ticks the machine at its deadlines. The sleep is a task of its own so that `handle`
    /// can cut it short when a new, earlier deadline appears; it is always awaited here.
    private func tick() async {
        while !Task.isCancelled {
            let deadline = machine.nextDeadline.map { origin + .nanoseconds(Int64(clamping: $0.nanoseconds)) }
                ?? clock.now.advanced(by: .seconds(1))
            let sleep = Task { try await Task.sleep(until: deadline, clock: .continuous) }
            sleeper = sleep
            await withTaskCancellationHandler {
                _ = await sleep.result
            } onCancel: {
                sleep.cancel()
            }
            sleeper = nil
            if Task.isCancelled { return }
            handle(.tick)
            for event in eventLog.flushRejections() { hooks.event(event) }
        }
    }

    /// The overlay's own stage, as the rendezvous reports it, for the machine's stage.
    private func watchOverlay() async {
        while !Task.isCancelled {
            handle(.overlay(await rendezvous.stats().stage))
            try? await Task.sleep(for: overlayInterval)
        }
    }

    /// Our imports as the responder reports them: renamed after a collision, or refused.
    private func publicationChanged(_ id: PublicationID, _ state: PublicationState) {
        guard let key = importsByPublication[id] else { return }
        switch state {
        case .renamed(_, let name):
            handle(.importRenamed(key, name))
        case .failed(let reason):
            // The domain withdrew it: it is tried again like an import refused at once.
            publicationIDs[key] = nil
            importsByPublication[id] = nil
            if let publication = importPublications[key] { importRefused(key, publication, reason: reason) }
        default:
            break
        }
    }

    // MARK: effects

    private func handle(_ event: GatewayMachine.Event) {
        let deadlineBefore = machine.nextDeadline
        for effect in machine.handle(event, now: now) { perform(effect) }
        if let after = machine.nextDeadline, deadlineBefore.map({ after < $0 }) ?? true { sleeper?.cancel() }
    }

    private func perform(_ effect: GatewayMachine.Effect) {
        switch effect {
        case .sendHeartbeat(let bytes, let endpoint):
            link.send(bytes, to: endpoint)
        case .advertise(let publication):
            domainQueue.continuation.yield(.advertise(publication))
        case .publish(let key, let publication):
            domainQueue.continuation.yield(.publish(key, publication))
        case .update(let key, let publication):
            domainQueue.continuation.yield(.update(key, publication))
        case .withdraw(let key):
            domainQueue.continuation.yield(.withdraw(key))
        case .joinRendezvous:
            rendezvousQueue.continuation.yield(.join)
        case .leaveRendezvous:
            putRetries.forgetAll()
            rendezvousQueue.continuation.yield(.leave)
        case .seedRendezvous(let endpoints):
            logger.info("island gateways given to the rendezvous as seeds",
                        metadata: ["seeds": "\(endpoints.map(\.description).joined(separator: ","))"])
            hooks.seedRendezvous(endpoints)
        case .put(let key, let valueID, let payload):
            let generation = putRetries.issued(PutRetries.Slot(key: key, valueID: valueID))
            rendezvousQueue.continuation.yield(.put(key, valueID, payload, generation: generation, attempt: 1))
        case .remove(let key, let valueID):
            putRetries.removed(PutRetries.Slot(key: key, valueID: valueID))
            rendezvousQueue.continuation.yield(.remove(key, valueID))
        case .subscribe(let key):
            rendezvousQueue.continuation.yield(.subscribe(key))
        case .unsubscribe(let key):
            rendezvousQueue.continuation.yield(.unsubscribe(key))
        case .persistIsland(let island):
            domainQueue.continuation.yield(.persist(island))
        case .fact(let fact):
            record(fact)
        case .relay(let relay):
            if case .probe = relay { probeQueue.continuation.yield(relay) } else { domainQueue.continuation.yield(.relay(relay)) }
        }
    }

    /// Keeps a fact (and the event it makes), and says the notable ones in the log too.
    private func record(_ fact: GatewayFact) {
        switch fact {
        case .transition(let transition):
            logger.info("island transition", metadata: [
                "role": "\(transition.role.rawValue)", "leader": "\(transition.leader.map { "\($0)" } ?? "none")",
                "term": "\(transition.term)", "island": "\(transition.island.map { "\($0)" } ?? "none")",
            ])
            hooks.transition(transition)
        case .stage(let stage):
            logger.info("island stage", metadata: ["stage": "\(stage)"])
        case .exportSkipped(let id, let skip):
            logger.debug("not exported", metadata: ["service": "\(id)", "reason": "\(skip.reason)"])
        case .rejected(let reason, let detail):
            logger.debug("input rejected", metadata: ["reason": "\(reason)", "detail": "\(detail)"])
            hooks.rejected(reason)
        case .exported(let record, _, _):
            let id = ServiceID(name: record.name, type: record.type)
            if case .success(let target) = machine.view.relayTarget(id) {
                hooks.relayGrant(.grant(id, island: record.island, target))
            }
        case .exportWithdrawn(let id):
            hooks.relayGrant(.revoke(id))
        default:
            break
        }
        for event in eventLog.appendAll(fact) { hooks.event(event) }
    }

    /// Recent events newer than `sequence`.
    public func events(after sequence: UInt64) -> EventsResponse {
        EventsResponse(events: eventLog.events(after: sequence), last: eventLog.last)
    }

    /// An event no machine fact stands behind: a failed operation of this adapter.
    private func log(_ kind: GatewayEvent.Kind, subject: String? = nil, reason: String? = nil, _ message: String) {
        hooks.event(eventLog.append(kind, subject: subject, reason: reason, message: message))
    }

    private func carryOutDomainOperations() async {
        for await operation in domainQueue.stream {
            await carryOut(operation)
        }
    }

    private func carryOut(_ operation: DomainOperation) async {
        do {
            switch operation {
            case .advertise(let publication):
                await advertise(publication)
            case .publish(let key, let publication):
                importPublications[key] = publication
                try await publishImport(key, publication)
            case .retry(let key):
                // Withdrawn or published meanwhile: nothing to try.
                guard let publication = importPublications[key], publicationIDs[key] == nil else { return }
                try await publishImport(key, publication)
            case .update(let key, let publication):
                importPublications[key] = publication
                if refusedImports.updated(key, to: publication) { return }
                guard let id = publicationIDs[key] else { return }
                try await domain.update(id, to: publication)
            case .withdraw(let key):
                importPublications[key] = nil
                refusedImports.withdrawn(key)
                guard let id = publicationIDs.removeValue(forKey: key) else { return }
                importsByPublication[id] = nil
                await domain.withdraw(id)
                // Its objects are free again: a refused import may fit now.
                refusedImports.capacityMayHaveFreed(now: now)
            case .persist(let island):
                await hooks.persistIsland(island)
            case .relay(let relay):
                if let answer = await hooks.relay(relay) { handle(answer) }
            }
        } catch {
            logger.warning("local publication failed", metadata: ["operation": "\(operation)", "reason": "\(error)"])
            log(.failed, reason: "publication_failed_\(error.reason)", "local publication failed: \(error)")
        }
    }

    /// Publishes the gateway's advert; a failure is said once and tried again after 1, 2, 4 … 60 s.
    private func advertise(_ publication: Publication) async {
        do throws(PublishError) {
            advertID = try await domain.publish(publication)
            if advertAttempts > 0 {
                logger.info("advert published on a retry", metadata: ["attempts": "\(advertAttempts + 1)"])
                log(.avahi, subject: "\(publication.name)", reason: "advert_published_on_retry",
                    "avahi-daemon accepted the gateway's advert on attempt \(advertAttempts + 1)")
            }
            advertAttempts = 0
            advertRefusal = nil
        } catch {
            advertAttempts += 1
            advertRefusal = "\(error)"
            let delay = RefusedImports.delay(afterAttempts: advertAttempts)
            if advertAttempts == 1 {
                logger.warning("advert refused; trying again", metadata: ["reason": "\(error)", "in": "\(delay)"])
                log(.failed, subject: "\(publication.name)", reason: "advert_refused",
                    "avahi-daemon refused the gateway's advert (\(error)); the link's other gateways cannot find it until it is published; trying again with backoff")
            }
            Task { [clock] in
                try? await clock.sleep(for: .nanoseconds(Int64(clamping: delay.nanoseconds)))
                await self.retryAdvert(publication)
            }
        }
    }

    private func retryAdvert(_ publication: Publication) {
        guard advertID == nil, advertRefusal != nil else { return }
        domainQueue.continuation.yield(.advertise(publication))
    }

    /// Publishes an import; a refusal is kept for another attempt (`RefusedImports`), said
    /// once when it starts and once when it ends.
    private func publishImport(_ key: ImportKey, _ publication: Publication) async throws(PublishError) {
        do throws(PublishError) {
            let id = try await domain.publish(publication)
            publicationIDs[key] = id
            importsByPublication[id] = key
            if let ended = refusedImports.published(key) {
                logger.info("refused import published on a retry", metadata: ["service": "\(key)", "attempts": "\(ended.attempts + 1)"])
                log(.imported, subject: GatewayEvents.subject(key.name, key.type), reason: "published_on_retry",
                    "avahi-daemon accepted the import on attempt \(ended.attempts + 1) (refused before: \(ended.reason))")
            }
        } catch .refused(_, let message) {
            importRefused(key, importPublications[key] ?? publication, reason: message)
        }
    }

    private func importRefused(_ key: ImportKey, _ publication: Publication, reason: String) {
        let first = refusedImports.refused(key, publication, reason: reason, now: now)
        let attempts = refusedImports.refusals[key]?.attempts ?? 1
        guard first else {
            logger.debug("import refused again", metadata: ["service": "\(key)", "reason": "\(reason)", "attempt": "\(attempts)"])
            return
        }
        logger.warning("import refused by avahi-daemon", metadata: ["service": "\(key)", "reason": "\(reason)"])
        log(.failed, subject: GatewayEvents.subject(key.name, key.type), reason: "import_refused",
            "avahi-daemon refused the import: \(reason); trying again in \(RefusedImports.delay(afterAttempts: attempts)), sooner when capacity frees")
    }

    /// Hands refused imports to the domain queue when they are due: at most a second late
    /// (a refusal or freed capacity may make one due sooner than the sleep).
    private func retryRefusedImports() async {
        while !Task.isCancelled {
            let now = now
            for (key, _) in refusedImports.takeDue(now: now) { domainQueue.continuation.yield(.retry(key)) }
            let wait = refusedImports.nextDue.map { $0.since(now) } ?? .seconds(1)
            try? await clock.sleep(for: .nanoseconds(Int64(clamping: min(wait, .seconds(1)).nanoseconds)))
        }
    }

    private func carryOutProbes() async {
        await withTaskGroup(of: Void.self) { probes in
            var running = 0
            for await probe in probeQueue.stream {
                if Task.isCancelled { break }
                if running >= Self.concurrentProbes {
                    await probes.next()
                    running -= 1
                }
                running += 1
                probes.addTask {
                    if let answer = await self.hooks.relay(probe) { await self.handle(answer) }
                }
            }
            probes.cancelAll()
        }
    }

    private func carryOutRendezvousOperations() async {
        await withTaskGroup(of: Void.self) { subscriptions in
            for await operation in rendezvousQueue.stream {
                if Task.isCancelled { break }
                let started = clock.now
                var result = "ok"
                switch operation {
                case .join:
                    await rendezvous.join()
                case .leave:
                    await rendezvous.leave()
                case .put(let key, let valueID, let payload, let generation, let attempt):
                    do {
                        try await rendezvous.put(key: key, valueID: valueID, payload: payload)
                        putRetries.stored(PutRetries.Slot(key: key, valueID: valueID), generation: generation)
                        if attempt > 1 {
                            logger.info("rendezvous put stored on a retry", metadata: ["key": "\(key)", "attempt": "\(attempt)"])
                        }
                    } catch {
                        result = Self.reason(error)
                        putFailed(key: key, valueID: valueID, payload: payload, generation: generation, attempt: attempt, error: error)
                    }
                case .remove(let key, let valueID):
                    do { try await rendezvous.remove(key: key, valueID: valueID) } catch {
                        logger.warning("rendezvous remove failed", metadata: ["key": "\(key)", "reason": "\(error)"])
                        result = Self.reason(error)
                        log(.failed, subject: "\(key)", reason: "remove_failed", "DHT remove failed: \(error)")
                    }
                case .subscribe(let key):
                    let changes = await rendezvous.subscribe(key: key)
                    subscriptions.addTask {
                        for await change in changes { await self.handle(.rendezvous(change)) }
                    }
                case .unsubscribe(let key):
                    await rendezvous.unsubscribe(key: key) // ends that subscription's task
                }
                hooks.rendezvousOperation(Self.name(operation), started.duration(to: clock.now), result)
            }
            subscriptions.cancelAll()
        }
    }

    /// A put failed: said once (the first attempt, and when retries give up), and tried again
    /// after a backoff unless a later put or remove of the value superseded it by then.
    private func putFailed(key: RecordKey, valueID: UInt64, payload: [UInt8], generation: UInt64, attempt: Int, error: any Error) {
        let delay = PutRetries.delay(after: error, attempt: attempt)
        if attempt == 1 || delay == nil {
            let retry = delay.map { "; trying again in \($0)" } ?? (attempt > 1 ? "; gave up after \(attempt) attempts until the next republish" : "")
            logger.warning("rendezvous put failed", metadata: ["key": "\(key)", "reason": "\(error)", "attempt": "\(attempt)"])
            log(.failed, subject: "\(key)", reason: "put_failed", "DHT put failed: \(error)\(retry)")
        } else {
            logger.debug("rendezvous put failed again", metadata: ["key": "\(key)", "reason": "\(error)", "attempt": "\(attempt)"])
        }
        guard let delay else { return }
        let slot = PutRetries.Slot(key: key, valueID: valueID)
        Task { [clock] in
            try? await clock.sleep(for: delay)
            self.retryPut(slot, payload: payload, generation: generation, attempt: attempt + 1)
        }
    }

    private func retryPut(_ slot: PutRetries.Slot, payload: [UInt8], generation: UInt64, attempt: Int) {
        guard putRetries.isCurrent(slot, generation: generation) else { return }
        rendezvousQueue.continuation.yield(.put(slot.key, slot.valueID, payload, generation: generation, attempt: attempt))
    }

    private static func name(_ operation: RendezvousOperation) -> String {
        switch operation {
        case .join: "join"
        case .leave: "leave"
        case .put: "put"
        case .remove: "remove"
        case .subscribe: "subscribe"
        case .unsubscribe: "unsubscribe"
        }
    }

    /// A low-cardinality label for a rendezvous failure.
    private static func reason(_ error: any Error) -> String {
        switch error as? RendezvousError {
        case .notStored?: "not_stored"
        case .tooLarge?: "too_large"
        case .shutDown?: "shut_down"
        case nil: "error"
        }
    }

    /// Goodbyes: withdraw every publication (Avahi sends goodbye packets) and remove what was
    /// exported, so other islands drop this island's services now rather than at expiry.
    private func shutDown() async {
        let effects = machine.stop()
        for effect in effects {
            switch effect {
            case .remove(let key, let valueID):
                try? await rendezvous.remove(key: key, valueID: valueID)
            default:
                break
            }
        }
        for id in publicationIDs.values.sorted() { await domain.withdraw(id) }
        publicationIDs = [:]
        if let advertID { await domain.withdraw(advertID) }
        await rendezvous.leave()
        domainQueue.continuation.finish()
        rendezvousQueue.continuation.finish()
        probeQueue.continuation.finish()
    }
}

/// What the exporting side of the relay may reach, as the machine's exports change.
public enum RelayGrant: Hashable, Sendable {
    /// Island `island`'s service `id` is exported: streams to it go to `target`.
    case grant(ServiceID, island: IslandID, RelayTarget)
    /// No longer exported: new streams are refused and open ones closed.
    case revoke(ServiceID)
}
