import Kademlia
import Rendezvous

/// A gateway's rendezvous in the simulator: what the daemon's native engine
/// (`KademliaRendezvous`, Sources/DHTRendezvous) does over a `DHTPeer`, done here over the
/// gateway's simulated `DHTNode`, as a value that turns the machine's rendezvous effects
/// into node commands and the node's notifications into `RendezvousChange`s.
///
/// It mirrors KademliaRendezvous rule for rule, and should change with it (or give way to
/// the engine-independent rendezvous client core once that exists):
/// - values are signed records under the gateway's identity, one slot per (key, value id),
///   living `ttl`; a removal is a tombstone with the next sequence number; sequence numbers
///   come from one counter started at the clock in milliseconds;
/// - the published table (live values by key) is put again, in full, each time the node
///   goes from no contacts to some (`republishAll`);
/// - a connect round every `retryInterval`, or at once on `join` or new seeds: alone, it
///   bootstraps through every seed; connected, through seeds given since the last round;
/// - a subscription made while alone, or that reached no holder, is placed again once
///   connected (`resubscribeAll`).
///
/// Departure: KademliaRendezvous carries operations out one after another (the driver
/// awaits each put); here they go to the node at once and run side by side. The node
/// orders values by sequence number, so only timing differs.
struct SimulatedRendezvous {
    enum Pending {
        case operation
        case bootstrap
        case subscribe(RecordKey, alone: Bool)
    }

    let ttl: UInt32
    let retryInterval: Interval
    private(set) var joined = false
    private(set) var sequence: UInt64
    /// Our live values, to put again after (re)joining.
    private(set) var published: [RecordKey: [UInt64: [UInt8]]] = [:]
    private(set) var subscriptions: Set<RecordKey> = []
    /// Subscriptions that reached no holder (made while alone), to place once peers are there.
    private var unplaced: Set<RecordKey> = []
    private(set) var seeds: [Endpoint]
    private var newSeeds: [Endpoint] = []
    private var wasConnected = false
    /// A round waits for its bootstrap; a wake meanwhile runs another round after it.
    private var roundInFlight = false
    private var wokenDuringRound = false
    /// Requests given to the node, by id, and what they were for.
    private(set) var pending: [RequestID: Pending] = [:]

    init(seeds: [Endpoint], ttl: UInt32 = 300, retryInterval: Interval = .seconds(5), clockMilliseconds: UInt64) {
        self.seeds = seeds
        self.ttl = ttl
        self.retryInterval = retryInterval
        self.sequence = clockMilliseconds
    }

    /// What the adapter must do: commands for the node, whether a connect round is due now,
    /// and whether to put every published value again (`republishAll`, after the commands).
    struct Steps {
        var commands: [Command] = []
        var roundNow = false
        var republish = false
    }

    // MARK: Rendezvous

    mutating func join() -> Steps {
        joined = true
        return wake()
    }

    mutating func leave() { joined = false }

    mutating func addSeeds(_ endpoints: [Endpoint]) -> Steps {
        for endpoint in endpoints where !seeds.contains(endpoint) {
            seeds.append(endpoint)
            newSeeds.append(endpoint)
        }
        return wake()
    }

    mutating func put(key: RecordKey, valueID: UInt64, payload: [UInt8], identity: Identity, request: RequestID) -> Command {
        sequence += 1
        published[key, default: [:]][valueID] = payload
        pending[request] = .operation
        return .put(request, identity.record(key: key, valueID: valueID, sequence: sequence, ttl: ttl, payload: payload))
    }

    mutating func remove(key: RecordKey, valueID: UInt64, identity: Identity, request: RequestID) -> Command {
        sequence += 1
        published[key]?[valueID] = nil
        if published[key]?.isEmpty == true { published[key] = nil }
        pending[request] = .operation
        let tombstone = identity.record(key: key, valueID: valueID, sequence: sequence, ttl: ttl, payload: [], tombstone: true)
        return .put(request, tombstone)
    }

    /// - Parameter contacts: the node's routing table size now ("alone" when 0).
    mutating func subscribe(key: RecordKey, contacts: Int, request: RequestID) -> Command {
        subscriptions.insert(key)
        pending[request] = .subscribe(key, alone: contacts == 0)
        return .subscribe(request, key)
    }

    mutating func unsubscribe(key: RecordKey) -> Command {
        unplaced.remove(key)
        subscriptions.remove(key)
        return .unsubscribe(key)
    }

    /// A notification of the node, as the subscriber of its key sees it (nil: no subscriber).
    func change(_ notification: SubscriptionNotification) -> RendezvousChange? {
        guard subscriptions.contains(notification.key) else { return nil }
        return switch notification.change {
        case .new(let record), .changed(let record):
            .upserted(RendezvousValue(key: record.key, owner: record.owner, valueID: record.valueID,
                                      sequence: record.sequence, payload: record.payload))
        case .deleted(let tombstone): .removed(notification.key, tombstone.slot)
        case .expired(let slot): .removed(notification.key, slot)
        }
    }

    // MARK: connecting

    /// `join()` or `addSeeds(_:)` cut the pause short.
    private mutating func wake() -> Steps {
        if roundInFlight {
            wokenDuringRound = true
            return Steps()
        }
        return Steps(roundNow: true)
    }

    /// One round of `stayConnected`: bootstrap when alone (or through new seeds), then
    /// place subscriptions and values again on becoming connected.
    /// - Parameter contacts: the node's routing table size now.
    mutating func round(contacts: Int, request: () -> RequestID) -> Steps {
        guard !roundInFlight else { return Steps() }
        guard joined else {
            wasConnected = false
            return Steps()
        }
        let fresh = newSeeds
        newSeeds = []
        if contacts == 0, !seeds.isEmpty {
            return bootstrap(seeds, request: request())
        } else if contacts > 0, !fresh.isEmpty {
            return bootstrap(fresh, request: request())
        }
        return finishRound(contacts: contacts, request: request)
    }

    private mutating func bootstrap(_ endpoints: [Endpoint], request: RequestID) -> Steps {
        roundInFlight = true
        pending[request] = .bootstrap
        return Steps(commands: [.bootstrap(request, endpoints)])
    }

    private mutating func finishRound(contacts: Int, request: () -> RequestID) -> Steps {
        let connected = contacts > 0
        var steps = Steps()
        if connected, !wasConnected {
            steps.commands = resubscribeAll(request: request)
            steps.republish = true
        }
        wasConnected = connected
        return steps
    }

    /// Subscriptions made while alone, placed now that there are peers.
    private mutating func resubscribeAll(request: () -> RequestID) -> [Command] {
        let keys = unplaced.filter { subscriptions.contains($0) }.sorted()
        unplaced = []
        return keys.map { key in
            let id = request()
            pending[id] = .subscribe(key, alone: false)
            return .subscribe(id, key)
        }
    }

    /// Everything we published, put again (new sequence numbers, as `put` does).
    mutating func republishAll(identity: Identity, request: () -> RequestID) -> [Command] {
        var commands: [Command] = []
        for (key, slots) in published.sorted(by: { $0.key < $1.key }) {
            for (valueID, payload) in slots.sorted(by: { $0.key < $1.key }) {
                commands.append(put(key: key, valueID: valueID, payload: payload, identity: identity, request: request()))
            }
        }
        return commands
    }

    /// The node finished a request of ours: the rest of a round its bootstrap held up.
    mutating func completed(_ request: RequestID, _ outcome: Outcome, contacts: Int, nextRequest: () -> RequestID) -> Steps {
        guard let what = pending.removeValue(forKey: request) else { return Steps() }
        switch (what, outcome) {
        case (.bootstrap, .bootstrapped(let reached, _)):
            roundInFlight = false
            // As KademliaRendezvous: alone, the bootstrap's count decides; connected, the larger.
            var steps = finishRound(contacts: max(contacts, reached), request: nextRequest)
            if wokenDuringRound {
                wokenDuringRound = false
                steps.roundNow = true
            }
            return steps
        case (.subscribe(let key, let alone), .subscribed(let holders)):
            if holders == 0 || alone { unplaced.insert(key) } else { unplaced.remove(key) }
            return Steps()
        default:
            return Steps()
        }
    }
}
