import Kademlia
import Primitives

/// Two overlays of `nodes` nodes each form apart (datagrams between them dropped), every
/// node puts one record, and then one node of the second overlay is told of one node of
/// the first (a single link). Every `checkEvery` a round of `lookups` gets runs — a random
/// node of either side reading a random record of the *other* side — and the time until a
/// round first reaches 99% and 100% success is reported, with the bytes the merge cost
/// (all traffic from the link until the 100% round, and until the overlay is quiet).
public struct OverlayMerge: Sendable {
    public var nodes = 5_000
    public var rate = 1_000.0
    public var lookups = 500
    public var checkEvery: Interval = .milliseconds(500)
    /// Settling time after both formations, before records are put.
    public var settle: Interval = .seconds(30)
    public var giveUpAfter: Interval = .seconds(120)
    /// How long rounds go on after the first 100% round.
    public var afterFull: Interval = .seconds(30)
    /// Issue the rounds of gets; off, the run only links and waits (`costWindow`), so the
    /// bytes are the merge's alone.
    public var probe = true
    public var costWindow: Interval = .seconds(30)

    public init(nodes: Int = 5_000, lookups: Int = 500) {
        self.nodes = nodes
        self.lookups = lookups
    }

    public struct Result: Hashable, Sendable, Codable {
        public var nodesPerSide = 0
        public var overlaysBefore = 0
        public var overlaysAfter = 0
        /// (seconds after the link, fraction of the round's cross-overlay gets that found the record).
        public var rounds: [[Double]] = []
        public var seconds99: Double?
        public var seconds100: Double?
        /// Bytes (UDP payload plus IP/UDP headers) from the link to the 100% round.
        public var bytesTo100 = 0
        public var datagramsTo100 = 0
        /// Bytes from the link until `giveUpAfter` or `afterFull` after the 100% round (with
        /// `probe` off: until `costWindow` after the link, the merge alone).
        public var bytesTotal = 0
        /// Bytes per node per second of the formed overlays just before the link (idle rate).
        public var idleBytesPerNodeSecond = 0.0
        public var merges: [String: Int] = [:]
        /// Nodes whose routing table holds a node of the other side, at the end.
        public var tablesAcross = 0
        /// Messages sent from the link to the end, by kind (and lookup requests by purpose).
        public var messages: [String: Int] = [:]
    }

    public func run(seed: UInt64) -> Result {
        let sim = Simulation(seed: seed)
        var result = Result()
        result.nodesPerSide = nodes
        let gap = Interval.seconds(1 / rate)
        // Both sides join at once, interleaved; side = index parity.
        for i in 0..<(2 * nodes) {
            let at = Instant.zero + Interval(nanoseconds: gap.nanoseconds * UInt64(i / 2))
            sim.schedule(at: at) { sim in
                let side = i % 2
                let earlier = i / 2
                let bootstrap = earlier == 0 ? [] : [2 * sim.randomIndex(below: earlier) + side]
                let index = sim.join(bootstrap: bootstrap)
                sim.partition[index] = side
            }
        }
        sim.run(until: Instant.zero + Interval(nanoseconds: gap.nanoseconds * UInt64(nodes)) + settle)
        var records: [Record] = []
        for i in 0..<(2 * nodes) {
            let key = RecordKey.make(network: sim.networkID, namespace: "island", name: "\(i)")
            let record = sim.node(i).identity.record(key: key, sequence: 1, ttl: 7_200, payload: Array("island \(i)".utf8))
            records.append(record)
            sim.command(i, .put(RequestID(UInt64(i)), record))
        }
        sim.run(for: .seconds(20))
        result.overlaysBefore = Set(sim.nodes.map(\.node.overlay)).count
        let idleStart = sim.traffic.bytes
        sim.run(for: .seconds(10))
        result.idleBytesPerNodeSecond = Double(sim.traffic.bytes - idleStart) / Double(2 * nodes) / 10

        // One link: node 1 (second side) is told of node 0 (first side).
        sim.partition = [:]
        let linkAt = sim.now
        let bytesAtLink = sim.traffic.bytes
        let datagramsAtLink = sim.traffic.datagrams
        let messagesAtLink = sim.messagesSent
        var mergesAtLink: [String: Int] = [:]
        for n in sim.nodes { for (cause, count) in n.node.counters.merges { mergesAtLink[cause, default: 0] += count } }
        sim.command(1, .bootstrap(RequestID(1 << 40), [Simulation.endpoint(of: 0)]))

        var found: [UInt64: Bool] = [:]
        var expected: [UInt64: Record] = [:]
        var nextRequest: UInt64 = 1 << 41
        sim.onEffect = { _, effect in
            guard case .completed(let request, .get(let got, _)) = effect, let want = expected[request.rawValue] else { return }
            found[request.rawValue] = got.contains(want)
        }
        var quietUntil: Instant?
        if !probe { sim.run(for: costWindow) }
        while probe, sim.now.since(linkAt) < giveUpAfter {
            if let q = quietUntil, sim.now >= q { break }
            var round: [UInt64] = []
            for _ in 0..<lookups {
                let reader = sim.randomIndex(below: 2 * nodes)
                let owner = 2 * sim.randomIndex(below: nodes) + (1 - reader % 2)
                nextRequest += 1
                expected[nextRequest] = records[owner]
                round.append(nextRequest)
                sim.command(reader, .get(RequestID(nextRequest), records[owner].key))
            }
            let issuedAt = sim.now.since(linkAt).seconds
            sim.run(for: checkEvery)
            // Let the round's gets finish (they are judged by when they were issued).
            var waited = Interval.zero
            while round.contains(where: { found[$0] == nil }), waited < .seconds(10) {
                sim.run(for: .milliseconds(100))
                waited = waited + .milliseconds(100)
            }
            let fraction = Double(round.filter { found[$0] == true }.count) / Double(lookups)
            result.rounds.append([issuedAt, fraction])
            if fraction >= 0.99, result.seconds99 == nil { result.seconds99 = issuedAt }
            if fraction == 1, result.seconds100 == nil {
                result.seconds100 = issuedAt
                result.bytesTo100 = sim.traffic.bytes - bytesAtLink
                result.datagramsTo100 = sim.traffic.datagrams - datagramsAtLink
                quietUntil = sim.now + afterFull
            }
            for r in round { expected[r] = nil; found[r] = nil }
        }
        sim.onEffect = nil
        result.bytesTotal = sim.traffic.bytes - bytesAtLink
        result.messages = sim.messagesSent.merging(messagesAtLink.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 }
        var sideOf: [NodeID: Int] = [:]
        for (i, n) in sim.nodes.enumerated() { sideOf[n.node.id] = i % 2 }
        result.tablesAcross = sim.nodes.indices.filter { i in sim.node(i).table.allContacts.contains { sideOf[$0.id] != i % 2 } }.count
        result.overlaysAfter = Set(sim.nodes.map(\.node.overlay)).count
        for n in sim.nodes { for (cause, count) in n.node.counters.merges { result.merges[cause, default: 0] += count } }
        result.merges = result.merges.merging(mergesAtLink.mapValues { -$0 }, uniquingKeysWith: +)
        return result
    }
}

