import Kademlia
import Primitives

/// A Sybil flood: `honest` nodes, each on its own /24, form an overlay; then one host (one
/// IPv4 address, one port per id) brings `sybils` node ids, each joining through a random
/// honest node. The Sybil ids are hostile: they acknowledge stores but never hand a value
/// back, and every list of contacts they send (`nodes`, the `closer` of `values`) names
/// only Sybil ids, the ones closest to what the honest answer would have been (an eclipse
/// attempt). Their own requests are ordinary, so they spread into honest tables as far as
/// the tables let them.
///
/// Then `trials` times a random honest node puts a fresh record and, once the put reports,
/// another random honest node gets the key; a get without the record is a miss. Finally
/// every honest routing table is read: the most Sybil contacts in any one bucket (the
/// subnet limit, `Limits.maxContactsPerSubnetPerBucket`, allows 2) and their share of all
/// entries. Run with `diversity: false` for the same flood against tables without the limit.
public struct SybilFlood: Sendable {
    public var honest = 500
    public var sybils = 100
    public var trials = 1_000
    public var concurrent = 10
    /// Routing-table diversity on (the default limits) or off.
    public var diversity = true
    /// How long the Sybils mingle before the trials start.
    public var settle: Interval = .seconds(60)

    public init(honest: Int = 500, sybils: Int = 100, trials: Int = 1_000, diversity: Bool = true) {
        self.honest = honest
        self.sybils = sybils
        self.trials = trials
        self.diversity = diversity
    }

    /// The attacker's one host.
    public static let sybilAddress = Endpoint.Address.v4(0xAC10_0001)  // 172.16.0.1

    public struct Result: Hashable, Sendable, Codable {
        public var honest: Int
        public var sybils: Int
        public var diversity: Bool
        /// The most Sybil contacts in one bucket of one honest table.
        public var maxSybilsPerBucket: Int
        /// Sybil contacts per honest table.
        public var sybilsPerTable: Percentiles
        /// Sybil contacts over all contacts of all honest tables.
        public var sybilShare: Double
        /// Contacts the subnet limit refused, summed over honest nodes.
        public var refusedBySubnetLimit: Int
        public var trials: Int
        public var misses: Int
        public var successRate: Double
        public var getMilliseconds: Percentiles
    }

    public func run(seed: UInt64) -> Result {
        let simulation = Simulation(seed: seed) { configuration in
            if !diversity { configuration.limits.maxContactsPerSubnetPerBucket = 0 }
        }
        _ = Formation(nodes: honest, rate: 1_000, lookups: 0).run(on: simulation)
        let honestNodes = simulation.liveIndices

        // The attacker's ids, all on one address.
        var sybilIndex: [NodeID: Int] = [:]
        var sybilContacts: [Contact] = []
        for j in 0..<sybils {
            let endpoint = Endpoint(address: Self.sybilAddress, port: UInt16(5_000 + j))
            let index = simulation.addNode(endpoint: endpoint)
            sybilIndex[simulation.node(index).id] = index
            sybilContacts.append(Contact(id: simulation.node(index).id, endpoint: endpoint))
            let through = honestNodes[simulation.randomIndex(below: honestNodes.count)]
            simulation.command(index, .bootstrap(RequestID(UInt64(1 << 50) + UInt64(j)), [Simulation.endpoint(of: through)]),
                               at: simulation.now + .milliseconds(Double(j) * 10))
        }
        let isSybil = Set(sybilIndex.values)
        func sybilsClosest(to point: NodeID?, count: Int) -> [Contact] {
            guard let point else { return Array(sybilContacts.prefix(count)) }
            return Array(sybilContacts.sorted { $0.id.distance(to: point) < $1.id.distance(to: point) }.prefix(count))
        }
        simulation.intercept = { from, _, message in
            guard isSybil.contains(from) else { return message }
            var lie = message
            switch message.body {
            case .nodes(let contacts):
                lie.body = .nodes(sybilsClosest(to: contacts.first?.id, count: max(contacts.count, 1)))
            case .values(_, _, let closer):
                lie.body = .values(records: [], more: false, closer: sybilsClosest(to: closer.first?.id, count: max(closer.count, 1)))
            case .notify:
                return nil
            default:
                break
            }
            return lie
        }
        simulation.run(for: settle)

        let outcome = WriteReadTrials(among: honestNodes, trials: trials, concurrent: concurrent, keyPrefix: "sybil")
            .run(on: simulation)

        var maxPerBucket = 0, sybilEntries = 0, allEntries = 0, refused = 0
        var perTable: [Double] = []
        for i in honestNodes {
            let node = simulation.node(i)
            var inTable = 0
            for bucket in node.table.buckets {
                let n = bucket.entries.filter { $0.contact.endpoint.address == Self.sybilAddress }.count
                maxPerBucket = max(maxPerBucket, n)
                inTable += n
                allEntries += bucket.entries.count
            }
            sybilEntries += inTable
            perTable.append(Double(inTable))
            refused += node.counters.limitHits["subnet_per_bucket", default: 0]
        }
        let missed = outcome.misses
        return Result(
            honest: honest, sybils: sybils, diversity: diversity, maxSybilsPerBucket: maxPerBucket,
            sybilsPerTable: Percentiles(perTable), sybilShare: allEntries == 0 ? 0 : Double(sybilEntries) / Double(allEntries),
            refusedBySubnetLimit: refused, trials: trials, misses: missed,
            successRate: trials == 0 ? 1 : Double(trials - missed) / Double(trials), getMilliseconds: Percentiles(outcome.getMilliseconds))
    }
}
