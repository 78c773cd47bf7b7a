import HeapModule
import Primitives

/// A Kademlia node as a pure state machine: `handle(_:now:)` takes an event (a message, a
/// tick, a command) and returns effects (messages to send, outcomes, notifications).
/// Nothing in it reads a clock, sleeps or touches a socket; time arrives as `now` and
/// randomness comes from the generator it owns, so the same value runs over UDP
/// (`Transport`) and by the thousand on virtual time (`Simulation`).
///
/// Adapters call `handle(.tick, now:)` once `now >= nextDeadline`.
///
/// Terms: *contact* (id + endpoint), *table* (k-buckets, see `RoutingTable` for where it
/// departs from the paper), *lookup* (iterative, α parallel requests, per-request
/// timeouts), *holder* (a node among the `storeReplicas` closest to a key, storing its
/// values and serving its subscriptions).
///
/// Departures from the paper, besides the table's:
/// - Values are signed records with a relative TTL (`Record`), one per slot (owner, value
///   id) under a key, stored on the `storeReplicas` (8) closest rather than all k; the owner
///   republishes its own records after `republishFraction` of their lifetime (all of its
///   due values under one key after one lookup) by id only, the record itself going only
///   to holders that lack it (`DHTNode+Refresh`); holders do not republish what they hold (the paper's hourly republish by every holder costs
///   O(records) per node per hour).
/// - The neighbourhood (our k closest) is re-checked by asking α of its members in turn for
///   our own id (every other time: for a neighbour at its edge), 1 s after a newcomer
///   appeared within our 2k closest and then with doubling pauses (up to 10 min) once a
///   full round found nothing new; this is what makes every node find its true k closest
///   within seconds after a wave of joins while costing little when idle.
/// - Closeness is not symmetric in rank, so a joiner introduces itself (`announce`, a ping)
///   to the nodes its lookups heard of but did not ask, and a node asking about its own id
///   is answered with 1.5k contacts, to name those nodes.
/// - A request timeout follows the measured round-trip time; a lookup asks a silent
///   candidate twice before dropping it (four times when it is among the closest three
///   still in the running, `Lookup.failed`), and stalls switch to k parallel requests (§2.3).
/// - A get runs the lookup to convergence and merges the values of every holder it meets
///   (newest per slot), instead of stopping at the first value: keys hold values of many
///   owners, and a stale replica must not hide a newer value or a tombstone.
/// - Subscriptions are an extension: a lease on the `subscriptionReplicas` closest holders,
///   renewed directly every half lease; holders push a `notify` as they store a change
///   (not a refresh), and a subscriber whose copy of a value ran out asks a holder before
///   it reports the value expired.
/// - Below `Configuration.structureThreshold` members the node runs no lookups at all:
///   direct exchange (`DHTNode+DirectExchange.swift`). `stage` says which it is doing;
///   every change of stage is an effect and a counter.
public struct DHTNode: Sendable {
    public let identity: Identity
    public let configuration: Configuration
    public internal(set) var table: RoutingTable
    public internal(set) var store: RecordStore
    public internal(set) var subscribers: SubscriberTable
    public internal(set) var subscriptions: [RecordKey: Subscription] = [:]
    public internal(set) var counters = Counters()
    /// The other members while in direct exchange (empty in structure).
    public internal(set) var mesh = Mesh()
    /// The overlay this node belongs to; nil until it has met another node.
    public internal(set) var overlay: UInt64?
    public var id: NodeID { identity.id }

    /// Where the node stands (`Stage`): bootstrapping while it knows no other node.
    public var stage: Stage {
        if merge.active { return .merging }
        return switch mode {
        case .direct: mesh.isEmpty ? .bootstrapping : .interconnection
        case .structure: table.count == 0 ? .bootstrapping : .structure
        }
    }

    let verifier: any RecordVerifier
    let codecLimits: Limits
    var rng: Xoshiro256
    var pending: [UInt32: PendingRequest] = [:]
    var deadlines = Heap<Deadline>()
    var lookups: [UInt64: ActiveLookup] = [:]
    var nextLookupID: UInt64 = 1
    var puts: [UInt64: PutState] = [:]
    var bootstraps: [RequestID: Int] = [:]
    /// Bootstrap commands waiting for the self-lookup of a join.
    var joinWaiters: [RequestID] = []
    var joining = false
    var mode = ExchangeMode.direct
    var reportedStage = Stage.bootstrapping
    /// Contacts named by a peer exchange that we pinged and that have not answered yet.
    var introducing = Set<NodeID>()
    /// Members named by a peer exchange that never answered our introduction, each with
    /// the member that named it (`DHTNode+Bridges`).
    var unreachable: [NodeID: Contact] = [:]
    /// Members that hold a lease here in direct exchange (they cannot reach every member),
    /// until when; their own records are forwarded to the other members (`DHTNode+Bridges`).
    var bridged: [NodeID: Instant] = [:]
    /// The host's own addresses, from the adapter (`DHTNode+NATMappings`).
    var hostAddresses = Set<Endpoint.Address>()
    /// Where the last member that answered our peer exchange saw us (`DHTNode+NATMappings`).
    public internal(set) var observedEndpoint: Endpoint?
    /// When each subscription holder was last pinged to keep our NAT's mapping to it open.
    var keepalives: [NodeID: Instant] = [:]
    /// Where to look for an overlay while alone: the endpoints of every bootstrap so far.
    var seeds: [Endpoint] = []
    var nextReseed: Instant?
    /// Peer exchanges (`findNode` of our own id to a new member) not answered yet.
    var exchangesInFlight = 0
    /// Members with a liveness ping out.
    var probingMembers = Set<NodeID>()
    /// Direct exchange: stores members have not acknowledged yet, sent again with backoff.
    var redelivery: Redelivery
    /// Merging: the window, the settle timer, the cooldown (`DHTNode+Merging`).
    var merge = MergeState()
    /// Contacts dropped as dead, pinged again now and then to notice a healed partition.
    var lost = LostContacts()
    /// Each record owner's wall clock as reckoned here, for issue times (`OwnerClocks`).
    var ownerClocks: OwnerClocks
    /// This node's own records, republished until replaced: by key, then by value id.
    var published: [RecordKey: [UInt64: Published]] = [:]
    var nextMaintenance: Instant?
    var neighbourhood = NeighbourhoodTimer()
    var rtt = RoundTripEstimate()
    /// Nodes this node introduced itself to (`announce`).
    var announced = Set<NodeID>()
    var effects: [Effect] = []

    public init(identity: Identity, configuration: Configuration, seed: UInt64, verifier: any RecordVerifier = Ed25519Verifier()) {
        ownerClocks = OwnerClocks(horizon: configuration.ownerClockHorizon)
        self.identity = identity
        self.configuration = configuration
        self.table = RoutingTable(localID: identity.id, k: configuration.k, diversity: SubnetDiversity(configuration.limits))
        self.store = RecordStore(limits: configuration.limits)
        self.subscribers = SubscriberTable(limits: configuration.limits)
        self.verifier = verifier
        self.codecLimits = configuration.limits
        self.rng = Xoshiro256(seed: seed)
        self.neighbourhood.interval = configuration.neighbourhoodRefreshMin
        self.redelivery = Redelivery(
            first: configuration.redeliveryFirst, cap: configuration.redeliveryMax, perMember: configuration.maxUnacknowledgedPerMember)
        self.overlay = configuration.overlay
    }

    static let maxSeeds = 16

    /// This node as others should know it, once the adapter knows its endpoint.
    public func contact(at endpoint: Endpoint) -> Contact { Contact(id: id, endpoint: endpoint) }

    /// When the adapter must next call `handle(.tick, now:)`; nil when nothing is due.
    public var nextDeadline: Instant? {
        var next = nextMaintenance
        if let d = deadlines.min?.at { next = min(next ?? d, d) }
        if let n = neighbourhood.at { next = min(next ?? n, n) }
        for m in [merge.rejoin?.at, merge.settleAt, merge.endsAt, merge.catchUpAt].compactMap({ $0 }) { next = min(next ?? m, m) }
        if let r = redelivery.nextDue { next = min(next ?? r, r) }
        if isDirect, let l = lost.nextMemberProbe { next = min(next ?? l, l) }
        return next
    }

    public mutating func handle(_ event: Event, now: Instant) -> [Effect] {
        effects.removeAll(keepingCapacity: true)
        if nextMaintenance == nil { nextMaintenance = now + configuration.maintenancePeriod.jittered(0.5, using: &rng) }
        switch event {
        case .received(let message, let endpoint): receive(message, from: endpoint, now: now)
        case .tick: tick(now: now)
        case .command(let command): perform(command, now: now)
        }
        reportStage()
        return effects
    }

    /// Emits and counts a change of stage.
    mutating func reportStage() {
        let current = stage
        guard current != reportedStage else { return }
        counters.stageTransitions["\(reportedStage.rawValue)->\(current.rawValue)", default: 0] += 1
        reportedStage = current
        effects.append(.stageChanged(current))
    }

    // MARK: commands

    mutating func perform(_ command: Command, now: Instant) {
        switch command {
        case .bootstrap(let request, let endpoints):
            if endpoints.isEmpty {
                joined(request, now: now)
                return
            }
            for e in endpoints where !seeds.contains(e) && seeds.count < Self.maxSeeds { seeds.append(e) }
            nextReseed = now + configuration.reseedInterval.jittered(0.2, using: &rng)
            bootstraps[request] = endpoints.count
            for e in endpoints { send(.ping, to: e, expecting: nil, purpose: .bootstrapPing(request), now: now) }
        case .lookup(let request, let target):
            if isDirect {
                let report = LookupReport(target: target, closest: mesh.closest(to: target, count: configuration.k), hops: 0, queries: 0, duration: .zero)
                effects.append(.completed(request, .lookup(report)))
            } else {
                startLookup(.lookup(request), target: target, now: now)
            }
        case .put(let request, let put):
            // Our own: issued now, whatever the caller signed (`Record.issuedAt`).
            let record = stamped(put, now: now)
            if record.owner == id { remember(record, now: now) }
            if isDirect {
                directPut([record], request: request, now: now)
            } else {
                startLookup(.put(request, [record]), target: record.key.point, now: now, width: configuration.storeReplicas)
            }
        case .get(let request, let key):
            if isDirect { directGet(key, request: request, now: now) } else { startLookup(.get(request), target: key.point, now: now) }
        case .subscribe(let request, let key):
            subscriptions[key] = Subscription(key: key, request: request, now: now)
            if isDirect { subscribeLocally(key, now: now) } else { startLookup(.subscribe(key), target: key.point, now: now) }
        case .hostAddresses(let addresses):
            hostAddresses = Set(addresses)
        case .unsubscribe(let key):
            guard let s = subscriptions.removeValue(forKey: key) else { return }
            for (holderID, holder) in s.holders.sorted(by: { $0.key < $1.key }) {
                if holderID == id {
                    _ = subscribers.subscribe(contact(at: holder.contact.endpoint), key: key, lease: 0, now: now)
                } else {
                    send(.subscribe(key: key, lease: 0), to: holder.contact.endpoint, expecting: holderID, purpose: .subscribe(key), now: now)
                }
            }
        }
    }

    // MARK: sending

    mutating func send(_ body: MessageBody, to endpoint: Endpoint, transaction: UInt32) {
        let header = MessageHeader(
            network: configuration.network, overlay: advertisedOverlay, structured: !isDirect, merging: merge.active, sender: id,
            transaction: transaction)
        counters.sent[Int(body.kind.rawValue)] += 1
        effects.append(.send(Message(header: header, body: body), to: endpoint))
    }

    /// Sends a request and remembers what its answer (or its timeout) is for; returns its
    /// transaction.
    @discardableResult
    mutating func send(_ body: MessageBody, to endpoint: Endpoint, expecting: NodeID?, purpose: PendingRequest.Purpose, now: Instant) -> UInt32 {
        var transaction = UInt32(truncatingIfNeeded: rng.next())
        while pending[transaction] != nil { transaction &+= 1 }
        let deadline = now + rtt.timeout(initial: configuration.requestTimeout, min: configuration.minimumRequestTimeout,
                                          max: configuration.maximumRequestTimeout)
        pending[transaction] = PendingRequest(endpoint: endpoint, expected: expecting, purpose: purpose, deadline: deadline, sentAt: now)
        deadlines.insert(Deadline(at: deadline, transaction: transaction))
        send(body, to: endpoint, transaction: transaction)
        return transaction
    }

    // MARK: receiving

    mutating func receive(_ message: Message, from endpoint: Endpoint, now: Instant) {
        let h = message.header
        guard h.network == configuration.network else { return drop(.wrongNetwork) }
        guard h.sender != id else { return drop(.ownID) }
        counters.received[Int(message.body.kind.rawValue)] += 1
        let sender = Contact(id: h.sender, endpoint: endpoint)
        var answering: PendingRequest?
        if message.body.isResponse {
            guard let request = pending[h.transaction], request.endpoint == endpoint,
                request.expected == nil || request.expected == h.sender
            else { return drop(.unexpectedResponse) }
            answering = request
        }
        // Before answering: a node founding an overlay names it in its answer.
        observeOverlay(h, from: sender, request: answering == nil, now: now)
        if let request = answering {
            pending[h.transaction] = nil
            rtt.sample(now.since(request.sentAt))
            learn(sender, structured: h.structured, now: now)
            answered(request, by: sender, body: message.body, now: now)
        } else {
            // Answer first, then learn (learning may start requests of our own).
            serve(message.body, from: sender, transaction: h.transaction, newcomer: !table.contains(sender.id), now: now)
            learn(sender, structured: h.structured, now: now)
        }
    }

    mutating func drop(_ reason: DropReason) {
        counters.dropped += 1
        effects.append(.dropped(reason))
    }

    /// Every valid message updates the table (and, in direct exchange, the mesh). A
    /// structured sender takes a node in direct exchange into structure.
    mutating func learn(_ contact: Contact, structured: Bool, now: Instant) {
        observeInTable(contact, now: now)
        guard isDirect else { return }
        if structured {
            enterStructure(now: now)
        } else if mesh.observe(contact, now: now) {
            memberJoined(contact, now: now)
        }
    }

    mutating func observeInTable(_ contact: Contact, now: Instant) {
        switch table.observe(contact, now: now, recentlySeen: configuration.recentlySeen) {
        case .refreshed, .dropped:
            break
        case .refusedSubnet:
            counters.limitHits["subnet_per_bucket", default: 0] += 1
        case .inserted(let rank):
            // A newcomer near us (within 2k) means the neighbourhood is changing, and nodes
            // near us may have new neighbours we have not heard from (rank is not
            // symmetric): check the neighbourhood soon.
            if rank < 2 * configuration.k { neighbourhoodChanged(now: now) }
        case .probe(let oldest):
            send(.ping, to: oldest.endpoint, expecting: oldest.id, purpose: .probe(oldest.id), now: now)
        }
    }

    // MARK: timers

    mutating func tick(now: Instant) {
        while let d = deadlines.min, d.at <= now {
            deadlines.removeMin()
            guard let request = pending[d.transaction], request.deadline <= now else { continue }
            pending[d.transaction] = nil
            counters.timeouts += 1
            if let expected = request.expected {
                let dropped = table.recordFailure(expected, maxFailures: configuration.maxFailures)
                let left = isDirect ? mesh.recordFailure(expected, maxFailures: configuration.maxMemberFailures) : nil
                if isDirect, !mesh.contains(expected) { redelivery.forget(expected) }
                if dropped || left != nil { lost.add(Contact(id: expected, endpoint: request.endpoint), at: now) }
            }
            timedOut(request, now: now)
        }
        if let at = neighbourhood.at, at <= now {
            neighbourhood.at = nil
            if !isDirect { refreshNeighbourhood(now: now) }
        }
        mergeTimers(now: now)
        if isDirect {
            redeliver(now: now)
            probeLostMembers(now: now)
        }
        if let at = nextMaintenance, at <= now {
            nextMaintenance = now + configuration.maintenancePeriod.jittered(0.2, using: &rng)
            maintain(now: now)
        }
    }
}
