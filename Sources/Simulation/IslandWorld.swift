import Island
import Kademlia
import Primitives

/// Islands on virtual time: the gateways of each island run the real `Election` over a
/// simulated link (heartbeats take `lanLatency`, mDNS sightings `advertDelay`), and the
/// gateway an island elects runs a `DHTNode` in the wrapped `Simulation`: it joins through
/// the leaders it is told of (the seed island's and one more, like a configured seed and a
/// peer exchange), subscribes to every service type and puts its island's export.
///
/// A gateway that stops leading withdraws its export (tombstone) and leaves the DHT; a
/// killed gateway just stops. Each leader's *view* is what its subscriptions told it: the
/// payloads of the live values under every type key. The *truth* is every island's current
/// export. Deterministic by the simulation's seed.
public final class IslandWorld {
    /// One gateway: its election, and its DHT node while it leads.
    public struct Gateway {
        public let island: Int
        public let endpoint: Endpoint
        public internal(set) var election: Election
        public internal(set) var alive = true
        /// Index of its DHT node in `simulation` while it leads.
        public internal(set) var dhtNode: Int?
        var tickAt: Instant?
    }

    /// A change of leader, for failover measurements.
    public struct LeaderChange: Hashable, Sendable {
        public var island: Int
        public var gateway: Int
        public var at: Instant
        public var leads: Bool
    }

    public let simulation: Simulation
    public var lanLatency: Interval = .milliseconds(1)
    public var advertDelay: Interval = .milliseconds(200)
    public let types: [RecordKey]
    /// As `KademliaRendezvous` (300 s): owners republish at half-life, which is also what moves
    /// a value onto the nodes that became its closest as the overlay grew.
    public var recordTTL: UInt32 = 300
    /// Islands whose leaders seed every other leader's join (the configured seed address).
    public var seedIslands: [Int] = [0]
    public private(set) var gateways: [Gateway] = []
    public private(set) var islands: [[Int]] = []
    /// What each island exports now: a version (0: nothing, withdrawn).
    public private(set) var exports: [Int] = []
    public private(set) var leaderChanges: [LeaderChange] = []
    /// Per DHT node: the live values its subscriptions reported, by slot.
    public private(set) var views: [Int: [RecordSlot: Record]] = [:]
    /// DHT node → gateway.
    public private(set) var gatewayOfNode: [Int: Int] = [:]
    /// Own records of each DHT node (to withdraw them on stepping down).
    private var putRecords: [Int: Record] = [:]
    private var nextRequest: UInt64 = 1

    public init(simulation: Simulation, typeCount: Int = 8) {
        self.simulation = simulation
        self.types = (0..<typeCount).map { RecordKey.make(network: simulation.networkID, namespace: "type", name: "_svc\($0)._tcp") }
        simulation.onEffect = { [unowned self] node, effect in self.observe(node, effect) }
    }

    /// Adds an island of `gateways` gateways booting at the given instants; returns its index.
    @discardableResult
    public func addIsland(bootTimes: [Instant], priorities: [UInt8]? = nil) -> Int {
        let island = islands.count
        islands.append([])
        exports.append(1)
        for (n, at) in bootTimes.enumerated() {
            let index = gateways.count
            var rng = Xoshiro256(seed: simulation.seed &+ UInt64(index) &* 0x9E37_79B9)
            let election = Election(
                id: NodeID.random(using: &rng), network: simulation.networkID, priority: priorities?[n] ?? 100,
                port: 5000, island: nil, seed: rng.next())
            gateways.append(Gateway(island: island, endpoint: Self.endpoint(of: index), election: election, alive: false))
            islands[island].append(index)
            simulation.schedule(at: at) { [unowned self] _ in self.boot(index) }
        }
        return island
    }

    static func endpoint(of gateway: Int) -> Endpoint { Endpoint(address: .v4(0x0B00_0000 | UInt32(gateway)), port: 5000) }

    // MARK: scenario steps

    /// Stops a gateway at once (kill -9): no withdrawal, no goodbye.
    public func kill(gateway: Int) {
        gateways[gateway].alive = false
        killed.append(gateway)
        if let node = gateways[gateway].dhtNode { simulation.kill(node) }
        if gateways[gateway].election.role == .leader {
            leaderChanges.append(LeaderChange(island: gateways[gateway].island, gateway: gateway, at: simulation.now, leads: false))
        }
    }

    /// The island's leader exports a new version (or withdraws with version 0).
    public func setExport(island: Int, version: Int) {
        exports[island] = version
        if let leader = leader(of: island), let node = gateways[leader].dhtNode { publish(node, island: island) }
    }

    /// Splits the leaders' DHT traffic by `side(island)` (nil: heal). Heartbeats stay on their links.
    public func partition(_ side: ((Int) -> Int)?) {
        simulation.partition = [:]
        guard let side else { return }
        for node in simulation.nodes.indices {
            if let g = gatewayOfNode[node] { simulation.partition[node] = side(gateways[g].island) }
        }
        partitionSide = side
    }

    private var partitionSide: ((Int) -> Int)?

    // MARK: observations

    /// The island's live leaders (normally one).
    public func leaders(of island: Int) -> [Int] {
        islands[island].filter { gateways[$0].alive && gateways[$0].election.role == .leader }
    }

    public func leader(of island: Int) -> Int? { leaders(of: island).first }

    /// Payloads every island exports now.
    public var truth: Set<[UInt8]> {
        Set(exports.indices.filter { exports[$0] > 0 }.map { Self.payload(island: $0, version: exports[$0]) })
    }

    /// What the leader of `island` sees: per exporting island, the newest version it has
    /// heard of (as the gateway imports one instance per island). A killed leader's record
    /// stays in the DHT until its lifetime ends — its successor cannot delete what another
    /// key signed — and a newer version from the successor supersedes it here.
    public func view(of island: Int) -> Set<[UInt8]> {
        guard let g = leader(of: island), let node = gateways[g].dhtNode else { return [] }
        var newest: [Int: Int] = [:]
        for record in (views[node] ?? [:]).values {
            guard let (exporter, version) = Self.parse(record.payload) else { continue }
            newest[exporter] = max(newest[exporter] ?? 0, version)
        }
        return Set(newest.map { Self.payload(island: $0.key, version: $0.value) })
    }

    /// Islands whose leader was killed at some point.
    public var islandsWithKilledLeaders: Set<Int> { Set(killed.map { gateways[$0].island }) }
    private var killed: [Int] = []

    static func payload(island: Int, version: Int) -> [UInt8] {
        Array("island \(island) v\(version)".utf8)
    }

    static func parse(_ payload: [UInt8]) -> (island: Int, version: Int)? {
        let parts = String(decoding: payload, as: UTF8.self).split(separator: " ")
        guard parts.count == 3, parts[0] == "island", let island = Int(parts[1]), parts[2].first == "v",
              let version = Int(parts[2].dropFirst()) else { return nil }
        return (island, version)
    }

    // MARK: gateways

    private func boot(_ index: Int) {
        gateways[index].alive = true
        let island = gateways[index].island
        let me = gateways[index]
        // mDNS: each live gateway of the link sees the newcomer's advert and the newcomer sees theirs.
        for other in islands[island] where other != index && gateways[other].alive {
            let them = gateways[other]
            simulation.schedule(at: simulation.now + advertDelay) { [unowned self] _ in
                self.feed(other, .advertised(me.election.id, me.endpoint, priority: me.election.priority))
                self.feed(index, .advertised(them.election.id, them.endpoint, priority: them.election.priority))
            }
        }
        feed(index, .tick)
    }

    private func feed(_ index: Int, _ input: Election.Input) {
        guard gateways[index].alive else { return }
        let now = simulation.now
        let wasLeader = gateways[index].election.role == .leader
        let outputs = gateways[index].election.handle(input, now: now)
        for output in outputs {
            guard case .send(let beat, let to) = output, case .v4(let a) = to.address else { continue }
            let target = Int(a & 0x00FF_FFFF)
            guard target < gateways.count else { continue }
            simulation.schedule(at: now + lanLatency) { [unowned self] _ in
                self.feed(target, .heartbeat(beat, from: self.gateways[index].endpoint))
            }
        }
        let leads = gateways[index].election.role == .leader
        if leads != wasLeader {
            leaderChanges.append(LeaderChange(island: gateways[index].island, gateway: index, at: now, leads: leads))
            if leads { startLeading(index) } else { stopLeading(index) }
        }
        if let deadline = gateways[index].election.nextDeadline, gateways[index].tickAt.map({ deadline < $0 || $0 <= now }) ?? true {
            let at = max(deadline, now)
            gateways[index].tickAt = at
            simulation.schedule(at: at) { [unowned self] _ in
                guard self.gateways[index].tickAt == at else { return }
                self.gateways[index].tickAt = nil
                self.feed(index, .tick)
            }
        }
    }

    private func startLeading(_ gateway: Int) {
        let node = simulation.addNode()
        gateways[gateway].dhtNode = node
        gatewayOfNode[node] = gateway
        if let side = partitionSide { simulation.partition[node] = side(gateways[gateway].island) }
        // Seeds: the seed islands' leaders and one other leader.
        var seeds = seedIslands.compactMap { leader(of: $0) }.filter { $0 != gateway }
        let others = gateways.indices.filter { $0 != gateway && gateways[$0].alive && gateways[$0].dhtNode != nil }
        if !others.isEmpty { seeds.append(others[simulation.randomIndex(below: others.count)]) }
        let endpoints = Array(Set(seeds.compactMap { gateways[$0].dhtNode })).sorted().map(Simulation.endpoint(of:))
        simulation.command(node, .bootstrap(request(), endpoints))
        for key in types { simulation.command(node, .subscribe(request(), key)) }
        publish(node, island: gateways[gateway].island)
    }

    private func stopLeading(_ gateway: Int) {
        guard let node = gateways[gateway].dhtNode else { return }
        gateways[gateway].dhtNode = nil
        if let record = putRecords[node], !record.isTombstone {
            simulation.command(node, .put(request(), simulation.node(node).identity.tombstone(for: record)))
        }
        simulation.schedule(at: simulation.now + .seconds(5)) { sim in sim.kill(node) }
    }

    private func publish(_ node: Int, island: Int) {
        let identity = simulation.node(node).identity
        let key = types[island % types.count]
        let sequence = (putRecords[node]?.sequence ?? 0) + 1
        let version = exports[island]
        let record = version > 0
            ? identity.record(key: key, valueID: UInt64(island), sequence: sequence, ttl: recordTTL, payload: Self.payload(island: island, version: version))
            : identity.record(key: key, valueID: UInt64(island), sequence: sequence, ttl: recordTTL, payload: [], tombstone: true)
        guard putRecords[node] != nil || version > 0 else { return }
        putRecords[node] = record
        simulation.command(node, .put(request(), record))
    }

    private func request() -> RequestID {
        nextRequest += 1
        return RequestID(nextRequest)
    }

    private func observe(_ node: Int, _ effect: Effect) {
        guard case .notification(let n) = effect else { return }
        switch n.change {
        case .new(let r), .changed(let r): views[node, default: [:]][r.slot] = r
        case .deleted(let t): views[node]?[t.slot] = nil
        case .expired(let slot): views[node]?[slot] = nil
        }
    }
}
