import DNSSD
import Gateway
import Island
import LocalDomain
import Logging
import Primitives
import Rendezvous
import Z2ZAPI

/// Runs one `GatewayMachine` against the world: the local domain (Avahi), the UDP link
/// (heartbeats), the rendezvous (DHT) and a clock. It decides nothing; it turns events into
/// machine inputs and carries out the machine's effects, in order.
///
/// Structure: `run()` owns every task as a child — one reading local-domain events, one
/// reading heartbeats, one ticking at the machine's deadlines, one carrying out local-domain
/// effects in order, one carrying out rendezvous effects in order (it also reads each
/// subscription). Slow effects (a DHT put takes a lookup) never hold up heartbeats. When
/// `run()` is cancelled it withdraws what it published and removes what it exported first.
public actor GatewayDriver {
    public struct Hooks: Sendable {
        /// Remember the island id (state directory).
        public var persistIsland: @Sendable (IslandID) async -> Void
        /// Every event as it is logged (metrics count them).
        public var event: @Sendable (GatewayEvent) -> Void
        /// Each rendezvous operation carried out: its name (`put`, `remove`, `subscribe`, ...),
        /// how long it took, and `ok` or the failure reason (latency histograms).
        public var rendezvousOperation: @Sendable (String, Duration, String) -> Void
        /// The island's other gateways, to join the rendezvous through while leading
        /// (`GatewayMachine.Effect.seedRendezvous`; the native engine's `addSeeds`).
        public var seedRendezvous: @Sendable ([Endpoint]) -> Void
        public init(persistIsland: @escaping @Sendable (IslandID) async -> Void = { _ in },
                    event: @escaping @Sendable (GatewayEvent) -> Void = { _ in },
                    rendezvousOperation: @escaping @Sendable (String, Duration, String) -> Void = { _, _, _ in },
                    seedRendezvous: @escaping @Sendable ([Endpoint]) -> Void = { _ in }) {
            self.persistIsland = persistIsland
            self.event = event
            self.rendezvousOperation = rendezvousOperation
            self.seedRendezvous = seedRendezvous
        }
    }

    private enum DomainOperation: Sendable {
        case advertise(Publication)
        case publish(ImportKey, Publication)
        case update(ImportKey, Publication)
        case withdraw(ImportKey)
    }

    private enum RendezvousOperation: Sendable {
        case join, leave
        case put(RecordKey, UInt64, [UInt8])
        case remove(RecordKey, UInt64)
        case subscribe(RecordKey)
        case unsubscribe(RecordKey)
    }

    public private(set) var machine: GatewayMachine
    /// Counters by reason: skipped exports, rejected inputs, failed operations.
    public private(set) var counters: [String: Int] = [:]
    public private(set) var connection: ConnectionState = .connecting("starting")
    public private(set) var transitions: [Election.Transition] = []
    /// Local services as last seen (for status).
    public private(set) var localServices: [ServiceID: DiscoveredService] = [:]
    public private(set) var started: ContinuousClock.Instant
    /// Recent events: transitions, services seen and gone, exports, imports, rejections.
    public private(set) var eventLog = EventLog()

    private let domain: any LocalDomain
    private let rendezvous: any Rendezvous
    private let link: any DatagramLink
    private let hooks: Hooks
    private let logger: Logger
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    private let domainQueue: (stream: AsyncStream<DomainOperation>, continuation: AsyncStream<DomainOperation>.Continuation)
    private let rendezvousQueue: (stream: AsyncStream<RendezvousOperation>, continuation: AsyncStream<RendezvousOperation>.Continuation)
    /// Our local-domain publications: the advert, and imports by their key.
    private var publicationIDs: [ImportKey: PublicationID] = [:]
    private var importsByPublication: [PublicationID: ImportKey] = [:]
    private var advertID: PublicationID?
    /// Services removed on their goodbye whose removal avahi-daemon has not confirmed yet.
    private var saidGoodbye: [ServiceID: DiscoveredService] = [:]
    /// The ticker's current sleep; cancelled when a new deadline may be earlier.
    private var sleeper: Task<Void, any Error>?

    public init(machine: GatewayMachine, domain: any LocalDomain, rendezvous: any Rendezvous, link: any DatagramLink,
                hooks: Hooks = Hooks(), logger: Logger = Logger(label: "z2z.gateway")) {
        self.machine = machine
        self.domain = domain
        self.rendezvous = rendezvous
        self.link = link
        self.hooks = hooks
        self.logger = logger
        origin = clock.now
        started = origin
        domainQueue = AsyncStream.makeStream(of: DomainOperation.self)
        rendezvousQueue = AsyncStream.makeStream(of: RendezvousOperation.self)
    }

    /// Runs until the calling task is cancelled, then shuts the gateway's part down cleanly.
    public func run() async {
        handle(.tick)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.readLocalDomain() }
            group.addTask { await self.readHeartbeats() }
            group.addTask { await self.tick() }
            group.addTask { await self.carryOutDomainOperations() }
            group.addTask { await self.carryOutRendezvousOperations() }
            // Cancelling run() cancels these children; each ends its loop.
            await group.waitForAll()
        }
        await shutDown()
    }

    /// A service on the link said goodbye (read off the wire before avahi-daemon's cache
    /// lets it go, a second later): it is removed now. Should avahi-daemon never report the
    /// removal (the service came back within that second with the same records), it is
    /// added back.
    public func goodbye(_ id: ServiceID) {
        guard let service = localServices[id] else { return }
        localServices[id] = nil
        saidGoodbye[id] = service
        if service.isPublishedByAHost {
            log(.serviceGone, subject: Self.subject(id), reason: "goodbye", "said goodbye on the link")
        }
        handle(.local(.removed(id)))
        Task {
            try? await Task.sleep(for: .seconds(2))
            await self.confirmGoodbye(id)
        }
    }

    private func confirmGoodbye(_ id: ServiceID) {
        guard let service = saidGoodbye.removeValue(forKey: id), localServices[id] == nil else { return }
        logger.debug("a service that said goodbye is still there", metadata: ["service": "\(id)"])
        localServices[id] = service
        handle(.local(.added(service)))
    }

    /// A new policy (configuration reload): exports and imports are decided again, and what
    /// it no longer permits is removed and withdrawn.
    public func setPolicy(export exportPermission: @escaping ExportPlanner.Permission,
                          import importPermission: @escaping ImportPlanner.Permission) {
        for effect in machine.setPolicy(export: exportPermission, import: importPermission) { perform(effect) }
    }

    /// The machine's current `Instant` (nanoseconds since the driver started).
    private var now: Instant {
        let elapsed = origin.duration(to: clock.now)
        let (seconds, attoseconds) = elapsed.components
        return Instant(nanoseconds: UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000))
    }

    // MARK: inputs

    private func readLocalDomain() async {
        for await event in domain.events {
            guard !Task.isCancelled else { return }
            switch event {
            case .removed(let id) where saidGoodbye.removeValue(forKey: id) != nil:
                continue // removed already, on its goodbye
            case .added(let service), .changed(let service):
                saidGoodbye[service.id] = nil
            default:
                break
            }
            note(event)
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
        }
    }

    private func note(_ event: LocalDomainEvent) {
        switch event {
        case .connection(let state):
            if state != connection { log(.avahi, reason: Self.connectionReason(state), "avahi-daemon: \(state)") }
            connection = state
        case .added(let service), .changed(let service):
            if service.isPublishedByAHost, localServices[service.id] != service {
                let addresses = service.instance.addresses.map(\.description).joined(separator: " ")
                log(.serviceSeen, subject: Self.subject(service.id),
                    "on \(service.instance.host.value):\(service.instance.port) \(addresses)")
            }
            localServices[service.id] = service
        case .removed(let id):
            if let gone = localServices[id], gone.isPublishedByAHost {
                log(.serviceGone, subject: Self.subject(id), reason: "removed", "left the link")
            }
            localServices[id] = nil
        case .publication(let id, .renamed(_, let name)):
            if let key = importsByPublication[id] { handle(.importRenamed(key, name)) }
        case .publication(let id, .failed(let reason)):
            if let key = importsByPublication[id] {
                logger.warning("import refused by avahi-daemon", metadata: ["service": "\(key)", "reason": "\(reason)"])
                count("import_refused")
                log(.failed, subject: Self.subject(key.name, key.type), reason: "import_refused",
                    "avahi-daemon refused the import: \(reason)")
            }
        default:
            break
        }
    }

    // MARK: effects

    private func handle(_ event: GatewayMachine.Event) {
        let deadlineBefore = machine.nextDeadline
        let (exportedBefore, importedBefore) = (machine.export.exported, machine.imports.imports)
        let effects = machine.handle(event, now: now)
        if !effects.isEmpty { logChanges(exportedBefore, importedBefore) }
        for effect in effects { perform(effect) }
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
            rendezvousQueue.continuation.yield(.leave)
        case .seedRendezvous(let endpoints):
            logger.info("island gateways given to the rendezvous as seeds",
                        metadata: ["seeds": "\(endpoints.map(\.description).joined(separator: ","))"])
            hooks.seedRendezvous(endpoints)
        case .put(let key, let valueID, let payload):
            rendezvousQueue.continuation.yield(.put(key, valueID, payload))
        case .remove(let key, let valueID):
            rendezvousQueue.continuation.yield(.remove(key, valueID))
        case .subscribe(let key):
            rendezvousQueue.continuation.yield(.subscribe(key))
        case .unsubscribe(let key):
            rendezvousQueue.continuation.yield(.unsubscribe(key))
        case .persistIsland(let island):
            let persist = hooks.persistIsland
            Task { await persist(island) } // a file write; the state store orders its own writes
        case .transition(let transition):
            transitions.append(transition)
            if transitions.count > 100 { transitions.removeFirst(transitions.count - 100) }
            logger.info("island transition", metadata: [
                "role": "\(transition.role.rawValue)", "leader": "\(transition.leader.map { "\($0)" } ?? "none")",
                "term": "\(transition.term)", "island": "\(transition.island.map { "\($0)" } ?? "none")",
            ])
            count("transition_\(transition.role.rawValue)")
            log(.transition, subject: transition.leader.map { "\($0)" }, reason: transition.role.rawValue,
                "\(transition.role.rawValue), leader \(transition.leader.map { "\($0)".prefix(16) } ?? "none"), term \(transition.term)")
        case .exportSkipped(let id, let skip):
            logger.debug("not exported", metadata: ["service": "\(id)", "reason": "\(skip.reason)"])
            count("export_skipped_\(skip.reason)")
            // Gateways' own publications (imports, adverts) are never exported: loop
            // prevention, not news. What a host published and was not exported is.
            switch skip {
            case .ourOwn, .gatewayPublished, .gatewayAdvert:
                break
            case .denied(let rule):
                log(.exportSkipped, subject: Self.subject(id), reason: skip.reason, "not exported: denied by \(rule)")
            case .noRoutableAddress:
                log(.exportSkipped, subject: Self.subject(id), reason: skip.reason, "not exported: no routable address")
            }
        case .rejected(let reason, let detail):
            logger.debug("input rejected", metadata: ["reason": "\(reason)", "detail": "\(detail)"])
            count("rejected_\(reason)")
            log(.rejected, reason: "\(reason)", "\(detail)")
        }
    }

    private func count(_ key: String) { counters[key, default: 0] += 1 }

    /// Recent events newer than `sequence`.
    public func events(after sequence: UInt64) -> EventsResponse {
        EventsResponse(events: eventLog.events(after: sequence), last: eventLog.last)
    }

    private func log(_ kind: GatewayEvent.Kind, subject: String? = nil, island: IslandRef? = nil, reason: String? = nil,
                     _ message: String) {
        hooks.event(eventLog.append(kind, subject: subject, island: island, reason: reason, message: message))
    }

    /// Exports and imports that came or went in one step of the machine.
    private func logChanges(_ exportedBefore: [ServiceID: ServiceRecord], _ importedBefore: [ImportKey: ImportPlanner.Imported]) {
        let exported = machine.export.exported
        for (id, record) in exported.sorted(by: { $0.key < $1.key }) where exportedBefore[id] != record {
            let key = RecordKeys.type(id.type, network: machine.settings.network)
            log(.exported, subject: Self.subject(id), reason: exportedBefore[id] == nil ? "new" : "changed",
                "under key type/\(id.type) (\(key.description.prefix(16))…), \(record.addresses.count) addresses")
        }
        for id in exportedBefore.keys.sorted() where exported[id] == nil {
            log(.exportRemoved, subject: Self.subject(id), "removed from the DHT")
        }
        let imported = machine.imports.imports
        for (key, value) in imported.sorted(by: { $0.key < $1.key }) where importedBefore[key]?.publication != value.publication {
            log(.imported, subject: Self.subject(key.name, key.type),
                island: IslandRef(id: "\(key.island)", name: value.record.islandName.isEmpty ? nil : value.record.islandName),
                reason: importedBefore[key] == nil ? "new" : "changed",
                "from island \(value.record.islandName.isEmpty ? "\(key.island)" : value.record.islandName) as \"\(value.publication.name.value)\"")
        }
        for (key, value) in importedBefore.sorted(by: { $0.key < $1.key }) where imported[key] == nil {
            log(.importWithdrawn, subject: Self.subject(key.name, key.type),
                island: IslandRef(id: "\(key.island)", name: value.record.islandName.isEmpty ? nil : value.record.islandName),
                "withdrawn from this link")
        }
    }

    static func subject(_ id: ServiceID) -> String { subject(id.name, id.type) }
    static func subject(_ name: InstanceName, _ type: ServiceType) -> String { "\(name.value).\(type)" }

    static func connectionReason(_ state: ConnectionState) -> String {
        switch state {
        case .running: "connected"
        case .connecting: "connecting"
        case .unavailable: "unavailable"
        }
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
                advertID = try await domain.publish(publication)
            case .publish(let key, let publication):
                let id = try await domain.publish(publication)
                publicationIDs[key] = id
                importsByPublication[id] = key
                count("imported")
            case .update(let key, let publication):
                guard let id = publicationIDs[key] else { return }
                try await domain.update(id, to: publication)
            case .withdraw(let key):
                guard let id = publicationIDs.removeValue(forKey: key) else { return }
                importsByPublication[id] = nil
                await domain.withdraw(id)
            }
        } catch {
            logger.warning("local publication failed", metadata: ["operation": "\(operation)", "reason": "\(error)"])
            count("publication_failed_\(error.reason)")
            log(.failed, reason: "publication_failed_\(error.reason)", "local publication failed: \(error)")
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
                case .put(let key, let valueID, let payload):
                    do { try await rendezvous.put(key: key, valueID: valueID, payload: payload) } catch {
                        logger.warning("rendezvous put failed", metadata: ["key": "\(key)", "reason": "\(error)"])
                        count("put_failed")
                        result = Self.reason(error)
                        log(.failed, subject: "\(key)", reason: "put_failed", "DHT put failed: \(error)")
                    }
                case .remove(let key, let valueID):
                    do { try await rendezvous.remove(key: key, valueID: valueID) } catch {
                        logger.warning("rendezvous remove failed", metadata: ["key": "\(key)", "reason": "\(error)"])
                        count("remove_failed")
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
    }
}
