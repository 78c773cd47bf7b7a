import Foundation
import Primitives
import DNSSD
import Kademlia

/// Whole gateways from cold, split and heal, churn (`GatewayNetwork`: the real machines
/// over the real DHT nodes). Islands of 1–`maxGateways` gateways boot at random within
/// `bootWindow`, each with `services` device services already on its link; then a quiet
/// `steady` window; then the wide-area network splits into two random halves for
/// `partitionLength`, while `changesWhileApart` of the islands change their services (one
/// withdrawn, one new, one TXT changed); then it heals; then `churn` of the islands leave
/// (half of them gracefully, half killed) and as many new ones join.
///
/// After each phase: the time until every present island's imports equal the truth (every
/// other present island's services, content included, and nothing else), zombie imports,
/// and the wide-area bytes per island per second. Killed islands' values stay in the DHT
/// until they expire, so after the churn the time is also given with their imports aside,
/// and the time until those are gone. Deterministic by seed.
public struct GatewayScenario: Sendable {
    public var islands = 1_000
    public var services = 10
    /// Service types the devices draw from (uniformly): each is one DHT key every leader
    /// subscribes to, holding about `islands × services / types` values.
    public var types = 32
    public var maxGateways = 3
    public var bootWindow: Interval = .seconds(30)
    /// The seed islands' gateways boot within the first second. Without it, an island with
    /// followers whose leader starts before any seed answers stays in an overlay of its own
    /// for good: its followers answer, so its rendezvous counts as connected and never tries
    /// the seeds again, and nobody else knows it (z2zd does the same; BENCHMARKS.md).
    public var seedsBootFirst = true
    public var steady: Interval = .seconds(20)
    public var partitionLength: Interval = .seconds(60)
    public var changesWhileApart = 0.1
    public var churn = 0.1
    /// New islands' gateways boot within this window after the churn starts.
    public var churnWindow: Interval = .seconds(2)
    /// Longest wait for every island's imports to be whole after each phase.
    public var limit: Interval = .seconds(120)
    /// After the churn, the longest wait for killed islands' imports to expire.
    public var lingerLimit: Interval = .seconds(400)
    /// How often wholeness is checked.
    public var resolution: Interval = .milliseconds(100)
    public var linkLatency: ClosedRange<Double> = 10...100
    public var network = GatewayNetwork.Settings()
    /// Where to write a line of traffic figures every 5 virtual seconds (nil: nowhere).
    public var trace: (@Sendable (String) -> Void)?
    /// Per-key limits of the DHT nodes. The defaults (`Limits`) admit 256 subscribers and
    /// 1,024 values per key; here every leader subscribes to every type key and to the
    /// directory, which holds one value per island (and per former leader until it expires).
    public var maxSubscribersPerKey = 4_096
    public var maxValuesPerKey = 4_096

    public init(islands: Int = 1_000, services: Int = 10) {
        self.islands = islands
        self.services = services
    }

    /// One phase's figures.
    public struct Phase: Hashable, Sendable, Codable {
        /// Virtual seconds from the phase's reference moment until every present island's
        /// imports equalled the truth (nil: not within the limit).
        public var secondsUntilWhole: Double?
        public var islandsWhole = 0
        public var islandsPresent = 0
        public var zombieImports = 0
        public var staleImports = 0
        public var lingeringImports = 0
        /// Wide-area bytes (DHT datagrams with IP/UDP headers) during the phase.
        public var bytes = 0
        public var seconds = 0.0
        public var bytesPerIslandSecond = 0.0
        /// The bytes by message kind (`values`: pages of values answering lookups).
        public var bytesByKind: [String: Int] = [:]
        /// Merges the DHT nodes started during the phase (`DHTNode+Merging`), by all causes.
        public var mergesStarted = 0
        /// For an island that is not whole: what it lacks or shows wrongly (a few).
        public var differences: [String] = []
    }

    public struct Result: Hashable, Sendable, Codable {
        public var islands = 0
        public var gateways = 0
        public var services = 0
        public var types = 0
        public var islandsWithOneLeader = 0
        /// Formation: seconds counted from the last boot.
        public var formation = Phase()
        /// The quiet window after formation.
        public var steady = Phase()
        /// The split itself (figures at its end, just before the heal).
        public var split = Phase()
        public var heal = Phase()
        public var changedWhileApart = 0
        /// The churn with killed islands' imports aside (they linger until expiry).
        public var churn = Phase()
        public var leftGracefully = 0
        public var killed = 0
        public var joined = 0
        /// From the churn until killed islands' imports were gone too (record expiry).
        public var lingerGone = Phase()
        public var virtualSeconds = 0.0
        public var simulatorEvents = 0
        public var heartbeatBytes = 0
    }

    public func run(seed: UInt64) -> Result {
        let sim = Simulation(seed: seed, network: NetworkModel(linkLatency: linkLatency)) { configuration in
            configuration.limits.maxSubscribersPerKey = maxSubscribersPerKey
            configuration.limits.maxValuesPerKey = maxValuesPerKey
        }
        let world = GatewayNetwork(simulation: sim, settings: network)
        let catalogue = ServiceCatalogue(types: types)
        var result = Result(islands: islands, services: services, types: types)

        if let trace { ScenarioTrace.start(sim, every: .seconds(5), to: trace) }
        // Formation from cold. The seed islands' gateways (everyone's configured seeds) come up first, as a
        // deployment's bootstrap nodes do (see `seedsBootFirst`).
        var lastBoot = Instant.zero
        for island in 0..<islands {
            let window = island < network.seedIslands && seedsBootFirst ? .seconds(1) : bootWindow
            lastBoot = max(lastBoot, addIsland(world, catalogue, bootingWithin: .zero, window))
        }
        sim.run(until: lastBoot)
        result.formation = measure(world, from: Mark(at: .zero), reference: lastBoot, limit: limit)
        result.gateways = world.gateways.count
        result.islandsWithOneLeader = world.presentIslands.filter { world.leaders(of: $0).count == 1 }.count

        // Quiet.
        result.steady = measure(world, from: Mark(sim), reference: sim.now, limit: .zero, until: sim.now + steady)

        // A random split into halves, services changing on both sides meanwhile.
        let order = shuffled(world.presentIslands, sim)
        let side = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($0.element, $0.offset < order.count / 2 ? 0 : 1) })
        let splitMark = Mark(sim)
        world.partition { side[$0] ?? 0 }
        sim.run(for: partitionLength * 0.5)
        let changing = shuffled(world.presentIslands, sim).prefix(Int((Double(islands) * changesWhileApart).rounded()))
        for island in changing.sorted() { change(world, catalogue, island: island) }
        result.changedWhileApart = changing.count
        result.split = measure(world, from: splitMark, reference: splitMark.at, limit: .zero,
                               until: splitMark.at + partitionLength)
        world.partition(nil)
        result.heal = measure(world, from: Mark(sim), reference: sim.now, limit: limit)

        // Churn: islands leave (seed islands stay: they are every gateway's configured
        // seeds), as many join.
        let churnMark = Mark(sim)
        let churnAt = churnMark.at
        let candidates = world.presentIslands.filter { $0 >= network.seedIslands }
        let leaving = shuffled(candidates, sim).prefix(Int((Double(islands) * churn).rounded())).sorted()
        for (n, island) in leaving.enumerated() { world.remove(island: island, graceful: n % 2 == 0) }
        result.leftGracefully = (leaving.count + 1) / 2
        result.killed = leaving.count / 2
        for _ in leaving { _ = addIsland(world, catalogue, bootingWithin: churnAt, churnWindow) }
        result.joined = leaving.count
        result.churn = measure(world, from: churnMark, reference: churnAt, limit: limit, lingeringAllowed: true)
        result.lingerGone = measure(world, from: churnMark, reference: churnAt, limit: lingerLimit)

        result.virtualSeconds = sim.now.since(.zero).seconds
        result.simulatorEvents = sim.eventsProcessed
        result.heartbeatBytes = world.heartbeatBytes
        return result
    }

    // MARK: steps

    /// Adds an island with its devices, its gateways booting at random within the window
    /// starting at `start`; returns its last boot.
    private func addIsland(_ world: GatewayNetwork, _ catalogue: ServiceCatalogue, bootingWithin start: Instant,
                           _ window: Interval) -> Instant {
        let sim = world.simulation
        let island = world.islands.count
        let devices = (0..<services).map { catalogue.service(island: island, number: $0, type: sim.randomIndex(below: types)) }
        let count = 1 + sim.randomIndex(below: maxGateways)
        let boots = (0..<count).map { _ in start + window * sim.random() }
        world.addIsland(name: "island-\(island)", bootTimes: boots, devices: Self.unique(devices))
        return boots.max() ?? start
    }

    /// Devices of one island have distinct ids (a clash of drawn names keeps the first).
    private static func unique(_ devices: [ServiceInstance]) -> [ServiceInstance] {
        var seen = Set<ServiceID>()
        return devices.filter { seen.insert($0.id).inserted }
    }

    /// One island's services change while apart: one withdrawn, one new, one TXT changed.
    private func change(_ world: GatewayNetwork, _ catalogue: ServiceCatalogue, island: Int) {
        let devices = world.islands[island].devices.values.sorted { $0.id < $1.id }
        guard devices.count >= 2 else { return }
        world.withdraw(device: devices[0].id, on: island)
        var changed = devices[1]
        changed.txt = catalogue.txt(island: island, number: 1, version: 2)
        world.publish(device: changed, on: island)
        let fresh = catalogue.service(island: island, number: services + 1, type: world.simulation.randomIndex(below: types))
        if world.islands[island].devices[fresh.id] == nil { world.publish(device: fresh, on: island) }
    }

    /// Runs until every present island's imports are whole (checked every `resolution`) or
    /// `limit` has passed since `from`, then on to `until` if later. The time counts from
    /// `reference`, traffic and seconds from the `from` mark.
    private func measure(_ world: GatewayNetwork, from mark: Mark, reference: Instant, limit: Interval,
                         until: Instant? = nil, lingeringAllowed: Bool = false) -> Phase {
        let from = mark.at
        let sim = world.simulation
        var phase = Phase()
        let deadline = max(from + limit, sim.now)
        var nextNote = sim.now
        while phase.secondsUntilWhole == nil {
            let missing = world.presentIslands.filter { !world.importsAreWhole($0, lingeringAllowed: lingeringAllowed) }
            if missing.isEmpty {
                phase.secondsUntilWhole = max(0, sim.now.since(reference).seconds)
                break
            }
            if let trace, sim.now >= nextNote {
                // Once a second while waiting: how many islands are not whole yet, and why the first.
                nextNote = sim.now + .seconds(1)
                trace("  +\(String(format: "%.1f", sim.now.since(reference).seconds)) s: \(missing.count) islands not whole; \(world.differences(of: missing[0]))")
            }
            guard sim.now < deadline else { break }
            sim.run(until: min(sim.now + resolution, deadline))
        }
        if let until, until > sim.now { sim.run(until: until) }
        let present = world.presentIslands
        phase.islandsPresent = present.count
        phase.islandsWhole = present.filter { world.importsAreWhole($0, lingeringAllowed: lingeringAllowed) }.count
        phase.zombieImports = world.zombieImports
        phase.staleImports = world.staleImports
        phase.lingeringImports = world.lingeringImports
        phase.differences = present.filter { !world.importsAreWhole($0, lingeringAllowed: lingeringAllowed) }.prefix(3)
            .map { world.differences(of: $0) }
        phase.bytes = sim.traffic.bytes - mark.bytes
        phase.bytesByKind = sim.bytesByKind.reduce(into: [:]) { $0[$1.key] = $1.value - (mark.kinds[$1.key] ?? 0) }
        phase.mergesStarted = Mark.merges(sim) - mark.merges
        phase.seconds = sim.now.since(from).seconds
        phase.bytesPerIslandSecond = phase.seconds > 0 ? Double(phase.bytes) / Double(max(1, present.count)) / phase.seconds : 0
        return phase
    }

    /// The traffic so far at a moment, for a phase's figures.
    private struct Mark {
        var at: Instant
        var bytes = 0
        var kinds: [String: Int] = [:]
        var merges = 0

        init(at: Instant) { self.at = at }

        init(_ sim: Simulation) {
            at = sim.now
            bytes = sim.traffic.bytes
            kinds = sim.bytesByKind
            merges = Self.merges(sim)
        }

        static func merges(_ sim: Simulation) -> Int {
            sim.nodes.reduce(0) { $0 + $1.node.counters.merges.values.reduce(0, +) }
        }
    }

    private func shuffled(_ items: [Int], _ sim: Simulation) -> [Int] {
        var order = items
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, sim.randomIndex(below: i + 1)) }
        return order
    }
}

