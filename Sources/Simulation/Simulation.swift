import Foundation
import HeapModule
import Kademlia
import Primitives

/// Many `DHTNode`s on one virtual clock and a simulated network. Deterministic: the same
/// seed, parameters and scenario replay the same run, datagram for datagram.
///
/// Nodes are numbered in creation order; node `i` listens on 10.x.y.1:4000 derived from
/// `i` (each node its own /24, as hosts of different sites; `Limits`' subnet diversity
/// then never binds), unless `addNode(endpoint:)` placed it elsewhere (several ids on one
/// host: `Sybil`). Messages are passed as values and their size is counted with
/// `WireCodec.encodedSize` plus the network's IP/UDP header bytes; `encodeOnWire` runs each
/// one through the real codec as well (slower; tests use it).
public final class Simulation {
    public let seed: UInt64
    public var network: NetworkModel
    public let networkID: NetworkID
    public var configuration: Configuration
    /// Runs every datagram through `WireCodec` (encode, then decode) before delivery.
    public var encodeOnWire = false
    /// Messages sent by all nodes so far, by kind.
    public var messagesSent: [String: Int] {
        var out: [String: Int] = [:]
        for n in nodes {
            for kind in MessageKind.allCases where n.node.counters.sent[Int(kind.rawValue)] > 0 {
                out[kind.name, default: 0] += n.node.counters.sent[Int(kind.rawValue)]
            }
        }
        for n in nodes {
            for (purpose, count) in n.node.counters.lookupRequests { out["requests:" + purpose, default: 0] += count }
        }
        return out
    }

    /// Called for every outcome, notification and drop of every node.
    public var onEffect: ((Int, Effect) -> Void)?
    /// Sees every datagram before it is sent, from node to node: returns it (changed or not),
    /// or nil to drop it. Hostile nodes are played this way (`SybilFlood`).
    public var intercept: ((_ from: Int, _ to: Int, Message) -> Message?)?
    /// Node group per node; datagrams between different groups are dropped. Empty: none.
    public var partition: [Int: Int] = [:]

    public private(set) var now: Instant = .zero
    public private(set) var traffic = Traffic()
    /// Bytes sent so far (payload + IP/UDP headers) by message kind.
    public var bytesByKind: [String: Int] {
        var out: [String: Int] = [:]
        for kind in MessageKind.allCases where bytesByKindCode[Int(kind.rawValue)] > 0 {
            out[kind.name] = bytesByKindCode[Int(kind.rawValue)]
        }
        return out
    }
    /// By the kind's wire code (a name per datagram costs a string).
    private var bytesByKindCode = [Int](repeating: 0, count: Int(MessageKind.allCases.map(\.rawValue).max()!) + 1)
    public private(set) var nodes: [SimulatedNode] = []
    public private(set) var eventsProcessed = 0
    /// Changes whenever a node is added or killed (oracles cache on it).
    public private(set) var membershipVersion = 0
    public let verifier: any RecordVerifier

    private var rng: Xoshiro256
    private var queue = Heap<Scheduled>()
    /// What each queued event does, in slots reused as events run: the heap moves only the
    /// small `Scheduled` values (a message is hundreds of bytes).
    private var pending: [Action?] = []
    private var freeSlots: [Int32] = []
    private var sequence: UInt64 = 0
    private var actions: [UInt64: (Simulation) -> Void] = [:]
    private let codec: WireCodec
    /// Nodes placed at an endpoint of their own choosing.
    private var placed: [Endpoint: Int] = [:]

    /// - Parameter cacheVerification: share one signature-verification cache among nodes.
    public init(seed: UInt64, network: NetworkModel = NetworkModel(), networkName: String = "sim", cacheVerification: Bool = true, configure: (inout Configuration) -> Void = { _ in }) {
        self.seed = seed
        self.network = network
        self.networkID = NetworkID(name: networkName)
        var configuration = Configuration(network: networkID)
        configure(&configuration)
        self.configuration = configuration
        self.codec = WireCodec(limits: configuration.limits)
        self.rng = Xoshiro256(seed: seed)
        self.verifier = cacheVerification ? CachingVerifier() : Ed25519Verifier()
    }

    // MARK: nodes

    public static let maximumNodes = 1 << 16

    public static func endpoint(of index: Int) -> Endpoint {
        precondition(index < maximumNodes, "a simulation has at most \(maximumNodes) nodes")
        return Endpoint(address: .v4(0x0A00_0000 | UInt32(index) << 8 | 1), port: 4000)
    }

    func index(of endpoint: Endpoint) -> Int? {
        if let index = placed[endpoint] { return index }
        guard case .v4(let a) = endpoint.address, a & 0xFF00_00FF == 0x0A00_0001, endpoint.port == 4000 else { return nil }
        return Int(a >> 8 & 0xFFFF)
    }

    /// Creates a node (alive, not yet joined) with an identity drawn from the run's seed,
    /// or the given one (a restart with the same key). With `started: false` the node exists
    /// (its endpoint is known, for configured seeds) but sends and receives nothing until
    /// `start(_:)`.
    @discardableResult
    public func addNode(identity: Identity? = nil, endpoint: Endpoint? = nil, started: Bool = true) -> Int {
        let index = nodes.count
        let identity = identity ?? Identity(using: &rng)
        let node = DHTNode(identity: identity, configuration: configuration, seed: rng.next(), verifier: verifier)
        let endpoint = endpoint ?? Self.endpoint(of: index)
        if endpoint != Self.endpoint(of: index) {
            precondition(placed[endpoint] == nil, "\(endpoint) is taken")
            placed[endpoint] = index
        }
        nodes.append(SimulatedNode(node: node, endpoint: endpoint))
        nodes[index].alive = started
        membershipVersion += 1
        return index
    }

    /// Starts a node added with `started: false` (a process coming up).
    public func start(_ index: Int) {
        precondition(!nodes[index].alive && !nodes[index].killed, "node \(index) was started before")
        nodes[index].alive = true
        membershipVersion += 1
    }

    /// Creates a node that joins through `bootstrap` at `at` (now if nil).
    @discardableResult
    public func join(bootstrap: [Int], at: Instant? = nil, request: RequestID = RequestID(0)) -> Int {
        let index = addNode()
        command(index, .bootstrap(request, bootstrap.map(Self.endpoint(of:))), at: at)
        return index
    }

    /// Stops a node: it sends and receives nothing more.
    public func kill(_ index: Int) {
        nodes[index].alive = false
        nodes[index].killed = true
        membershipVersion += 1
    }

    public func isAlive(_ index: Int) -> Bool { nodes[index].alive }

    public var liveIndices: [Int] { nodes.indices.filter { nodes[$0].alive } }

    public func node(_ index: Int) -> DHTNode { nodes[index].node }

    /// The size of a node's routing table (without copying the node).
    public func contacts(of index: Int) -> Int { nodes[index].node.table.count }

    // MARK: scheduling

    public func command(_ index: Int, _ command: Command, at: Instant? = nil) {
        enqueue(at ?? now, .command(index, command))
    }

    /// Runs `action` at `at` on virtual time (scenario steps: churn, checks, measurements).
    public func schedule(at: Instant, _ action: @escaping (Simulation) -> Void) {
        sequence += 1
        actions[sequence] = action
        queue.insert(Scheduled(at: max(at, now), sequence: sequence, slot: park(.call(sequence))))
    }

    /// Processes events up to and including `until`, then sets the clock to `until`.
    public func run(until: Instant) {
        while let next = queue.min, next.at <= until {
            let event = queue.removeMin()
            now = event.at
            eventsProcessed += 1
            let action = pending[Int(event.slot)].take()!
            freeSlots.append(event.slot)
            dispatch(action)
        }
        now = max(now, until)
    }

    public func run(for interval: Interval) { run(until: now + interval) }

    /// A uniformly random double in [0, 1) from the run's generator (for scenarios).
    public func random() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

    public func randomIndex(below n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    /// Exponentially distributed with the given mean (session and inter-arrival times).
    public func exponential(mean: Double) -> Double { -mean * log1p(-random()) }

    // MARK: internals

    private enum Action {
        case deliver(to: Int, Message, from: Endpoint)
        case tick(Int)
        case command(Int, Command)
        case call(UInt64)
    }

    private struct Scheduled: Comparable {
        var at: Instant
        var sequence: UInt64
        var slot: Int32
        static func < (a: Scheduled, b: Scheduled) -> Bool { (a.at, a.sequence) < (b.at, b.sequence) }
        static func == (a: Scheduled, b: Scheduled) -> Bool { a.at == b.at && a.sequence == b.sequence }
    }

    private func enqueue(_ at: Instant, _ action: Action) {
        sequence += 1
        queue.insert(Scheduled(at: at, sequence: sequence, slot: park(action)))
    }

    private func park(_ action: Action) -> Int32 {
        if let slot = freeSlots.popLast() {
            pending[Int(slot)] = action
            return slot
        }
        pending.append(action)
        return Int32(pending.count - 1)
    }

    private func dispatch(_ action: Action) {
        switch action {
        case .deliver(let to, let message, let from):
            guard nodes[to].alive else { traffic.undeliverable += 1; return }
            handle(to, .received(message, from: from))
        case .tick(let index):
            guard nodes[index].alive, let at = nodes[index].tickAt, at <= now else { return }
            nodes[index].tickAt = nil
            handle(index, .tick)
        case .command(let index, let command):
            guard nodes[index].alive else { return }
            handle(index, .command(command))
        case .call(let id):
            if let f = actions.removeValue(forKey: id) { f(self) }
        }
    }

    private func handle(_ index: Int, _ event: Event) {
        // One access to the node for both (reading `nextDeadline` through the array on its
        // own copied the whole node).
        let (effects, nextDeadline) = Self.step(&nodes[index].node, event, now: now)
        for effect in effects {
            switch effect {
            case .send(let message, let to):
                transmit(message, from: index, to: to)
            default:
                onEffect?(index, effect)
            }
        }
        if let deadline = nextDeadline, nodes[index].tickAt.map({ deadline < $0 }) ?? true {
            nodes[index].tickAt = deadline
            enqueue(max(deadline, now), .tick(index))
        }
    }

    private static func step(_ node: inout DHTNode, _ event: Event, now: Instant) -> ([Effect], Instant?) {
        (node.handle(event, now: now), node.nextDeadline)
    }

    private func transmit(_ message: Message, from: Int, to endpoint: Endpoint) {
        var message = message
        if let intercept, let to = index(of: endpoint), to < nodes.count {
            guard let changed = intercept(from, to, message) else { traffic.undeliverable += 1; return }
            message = changed
        }
        let size = WireCodec.encodedSize(message) + network.headerBytes
        traffic.datagrams += 1
        traffic.bytes += size
        bytesByKindCode[Int(message.body.kind.rawValue)] += size
        nodes[from].bytesSent += size
        guard let to = index(of: endpoint), to < nodes.count else { traffic.undeliverable += 1; return }
        nodes[to].bytesReceived += size
        if network.loss > 0, random() < network.loss { traffic.lost += 1; return }
        if !partition.isEmpty, partition[from] != partition[to] { traffic.undeliverable += 1; return }
        var delivered = message
        if encodeOnWire {
            let bytes = codec.encode(message)
            precondition(bytes.count + network.headerBytes == size, "encodedSize disagrees with encode")
            guard let decoded = try? codec.decode(bytes) else { traffic.undeliverable += 1; return }
            delivered = decoded
        }
        let latency = network.baseLatency(from, to, seed: seed) + exponential(mean: network.jitterMean)
        enqueue(now + .milliseconds(latency), .deliver(to: to, delivered, from: nodes[from].endpoint))
    }
}

/// One node of a simulation and its traffic.
public struct SimulatedNode {
    public internal(set) var node: DHTNode
    public let endpoint: Endpoint
    public internal(set) var alive = true
    var killed = false
    public internal(set) var bytesSent = 0
    public internal(set) var bytesReceived = 0
    var tickAt: Instant?

    init(node: DHTNode, endpoint: Endpoint) {
        self.node = node
        self.endpoint = endpoint
    }
}
