import Kademlia
import Primitives

/// A few `DHTNode`s wired together by hand on virtual time: every datagram takes 10 ms,
/// nodes can be silenced. Small enough to read; the `Simulation` module does this at scale.
struct TestNetwork {
    var nodes: [DHTNode] = []
    var silenced: Set<Int> = []
    /// Group per node; datagrams between different groups are dropped (partitions,
    /// overlays formed apart). Empty: none.
    var groups: [Int: Int] = [:]
    /// Decides per datagram (from, to, message) whether the network loses it: a lossy link.
    var lose: ((_ from: Int, _ to: Int, Message) -> Bool)?
    /// Nodes behind a masquerading NAT of their own: others see them at this address (same
    /// port), and a datagram reaches one only from a node it exchanged a datagram with
    /// within the mapping's timeout, as Linux conntrack does.
    var nat: [Int: (address: Endpoint.Address, timeout: Interval)] = [:]
    /// Per NATed node, per peer: when the mapping last carried a datagram.
    private var mappings: [Int: [Int: Instant]] = [:]
    var now: Instant = .zero
    var outcomes: [(node: Int, request: RequestID, outcome: Outcome)] = []
    var notifications: [(node: Int, notification: SubscriptionNotification)] = []
    var drops: [(node: Int, reason: DropReason)] = []
    var stages: [(node: Int, stage: Stage)] = []
    private var inFlight: [(at: Instant, to: Int, message: Message, from: Endpoint)] = []

    /// Nodes are structured from their first contact on (the DHT tests' subject) unless
    /// `configure` sets another `structureThreshold`.
    init(count: Int, seed: UInt64 = 1, configure: (inout Configuration) -> Void = { _ in }) {
        var config = Configuration(network: Fixtures.network)
        config.structureThreshold = 2
        configure(&config)
        for i in 0..<count {
            nodes.append(DHTNode(identity: Fixtures.identity(UInt8(i + 1)), configuration: config, seed: seed &+ UInt64(i)))
        }
    }

    static func endpoint(_ i: Int) -> Endpoint { Endpoint(address: .v4(0x7F00_0001), port: UInt16(20_000 + i)) }
    static func index(_ e: Endpoint) -> Int { Int(e.port) - 20_000 }

    mutating func command(_ i: Int, _ c: Command) { apply(i, nodes[i].handle(.command(c), now: now)) }

    mutating func deliver(_ i: Int, _ m: Message, from: Endpoint) { apply(i, nodes[i].handle(.received(m, from: from), now: now)) }

    /// Everyone joins through node 0, one after another.
    mutating func form() { form(nodes.indices) }

    /// The nodes of `range` join through its first, one after another.
    mutating func form(_ range: Range<Int>) {
        command(range.lowerBound, .bootstrap(RequestID(0), []))
        for i in range.dropFirst() {
            command(i, .bootstrap(RequestID(0), [Self.endpoint(range.lowerBound)]))
            run(for: .seconds(2))
        }
        run(for: .seconds(30))
    }

    mutating func run(for interval: Interval) {
        let end = now + interval
        while true {
            let nextMessage = inFlight.min { $0.at < $1.at }?.at
            let nextTick = nodes.indices.compactMap { nodes[$0].nextDeadline }.min()
            guard let next = [nextMessage, nextTick].compactMap({ $0 }).min(), next <= end else { break }
            now = max(now, next)
            if let m = nextMessage, m <= now, let i = inFlight.firstIndex(where: { $0.at == m }) {
                let d = inFlight.remove(at: i)
                if !silenced.contains(d.to), passesNAT(to: d.to, from: Self.index(d.from)) { deliver(d.to, d.message, from: d.from) }
                continue
            }
            for i in nodes.indices where (nodes[i].nextDeadline ?? end + .seconds(1)) <= now {
                apply(i, nodes[i].handle(.tick, now: now))
            }
        }
        now = end
    }

    mutating func apply(_ i: Int, _ effects: [Effect]) {
        for e in effects {
            switch e {
            case .send(let m, let to):
                guard !silenced.contains(i), groups[i] == groups[Self.index(to)] else { continue }
                if let lose, lose(i, Self.index(to), m) { continue }
                var from = Self.endpoint(i)
                if let outside = nat[i] {
                    mappings[i, default: [:]][Self.index(to)] = now
                    from = Endpoint(address: outside.address, port: from.port)
                }
                inFlight.append((now + .milliseconds(10), Self.index(to), m, from))
            case .completed(let r, let o): outcomes.append((i, r, o))
            case .notification(let n): notifications.append((i, n))
            case .dropped(let reason): drops.append((i, reason))
            case .stageChanged(let stage): stages.append((i, stage))
            }
        }
    }

    /// Whether a datagram from `from` gets through `to`'s NAT (always, when it has none);
    /// one that does keeps the mapping alive.
    mutating func passesNAT(to: Int, from: Int) -> Bool {
        guard let inside = nat[to] else { return true }
        guard let last = mappings[to]?[from], now.since(last) < inside.timeout else { return false }
        mappings[to]![from] = now
        return true
    }

    func outcome(_ request: RequestID) -> Outcome? { outcomes.last { $0.request == request }?.outcome }
}
