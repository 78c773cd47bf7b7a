import ArgumentParser
import Kademlia
import Simulation

struct FormationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "formation",
        abstract: "N nodes join at 1,000/s; time from the last join until every node holds its true k closest and 1,000 random lookups succeed.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Joins per second.") var rate: Double = 1_000

    func run() throws {
        let n = common.nodes ?? 10_000
        let (r, wall) = timed { Formation(nodes: n, rate: rate, lookups: 1_000).run(on: Simulation(seed: common.seed)) }
        print("formation: \(n) nodes at \(Int(rate))/s, last join at \(f(r.lastJoinSeconds))s")
        print("  every node holds its true k closest after \(f(r.neighbourhoodsCompleteAfter))s; stable (and \(r.lookups.succeeded)/\(r.lookups.issued) lookups right) after \(f(r.stableAfter))s [target < 12 s]")
        print("  wall time \(f(wall))s [target < 120 s]; \(r.datagrams) datagrams, \(r.events) events")
        try Report("formation", seed: common.seed, wallSeconds: wall, figures: r).emit(json: common.json)
    }
}

struct LookupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookups", abstract: "Random lookups on a formed overlay: hops, latency, success.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Lookups to issue (at 1,000/s).") var count = 10_000

    struct Figures: Codable { var formationStableAfter: Double?; var lookups: LookupProbe.Result; var successRate: Double }

    func run() throws {
        let n = common.nodes ?? 10_000
        let (r, wall) = timed { () -> Figures in
            let sim = Simulation(seed: common.seed)
            let formed = Formation(nodes: n, rate: 1_000, lookups: 0).run(on: sim)
            let l = LookupLoad(count: count, rate: 1_000).run(on: sim)
            return Figures(formationStableAfter: formed.stableAfter, lookups: l, successRate: l.successRate)
        }
        let l = r.lookups
        print("lookups at \(n) nodes: \(l.succeeded)/\(l.issued) found the true closest (\(f(100 * l.successRate, 2))%)")
        print("  hops p50 \(f(l.hops.p50, 0)) p99 \(f(l.hops.p99, 0)); latency p50 \(f(l.latencyMilliseconds.p50, 0)) ms p99 \(f(l.latencyMilliseconds.p99, 0)) ms (links 10-100 ms one way)")
        try Report("lookups", seed: common.seed, wallSeconds: wall, figures: r).emit(json: common.json)
    }
}

struct MaintenanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maintenance", abstract: "Idle maintenance bytes/s per node, and per subscription (simulated).")
    @OptionGroup var common: CommonOptions

    func run() throws {
        let n = common.nodes ?? 1_000
        let (r, wall) = timed { Maintenance(nodes: n).run(seed: common.seed) }
        func w(_ x: Maintenance.Window) -> String {
            "minutes \(f(x.startMinutes))-\(f(x.startMinutes + x.minutes)): \(f(x.bytesPerNodePerSecond, 2)) B/s, \(f(x.datagramsPerNodePerSecond, 3)) datagrams/s per node; messages \(x.messages.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))"
        }
        print("idle maintenance at \(n) nodes (payload + 28 B IP/UDP per datagram) [target <= 30 B/s]")
        print("  first window  \(w(r.firstWindow))")
        print("  steady window \(w(r.steadyWindow))")
        print("  second hour   \(w(r.secondHour))")
        print("  whole idle    \(w(r.wholeIdle))")
        print("subscriptions: \(r.subscriptionsEstablished)/\(r.subscriptions) established; \(f(r.bytesPerSubscriptionPerSecond, 2)) B/s per subscription [target <= 40 B/s]")
        try Report("maintenance", seed: common.seed, wallSeconds: wall, figures: r).emit(json: common.json)
    }
}

struct ConsistencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consistency", abstract: "Time to true k closest after the last join; read-after-write misses.")
    @OptionGroup var common: CommonOptions
    @Option var trials = 1_000

    func run() throws {
        let n = common.nodes ?? 1_000
        let (r, wall) = timed { Consistency(nodes: n, trials: trials).run(seed: common.seed) }
        print("consistency at \(n) nodes: every node holds its true k closest \(f(r.neighbourhoodsCompleteAfter))s after the last join [target <= 15 s]")
        print("  read-after-write: \(r.misses) misses in \(r.trials) trials [target 0]; puts without ack \(r.putsWithoutAck); acks p50 \(f(r.acks.p50, 0)); put p50 \(f(r.putMilliseconds.p50, 0)) ms, get p50 \(f(r.getMilliseconds.p50, 0)) ms")
        try Report("consistency", seed: common.seed, wallSeconds: wall, figures: r).emit(json: common.json)
    }
}

struct ChurnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "churn", abstract: "Lookup success under churn with exponential sessions.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Median session in minutes.") var medianMinutes: Double = 10
    @Option(help: "Minutes of lookups after the warm-up.") var minutes: Double = 10
    @Option(help: "Datagram loss probability.") var loss: Double = 0

    func run() throws {
        let n = common.nodes ?? 1_000
        var churn = Churn(nodes: n, medianSession: .minutes(medianMinutes))
        churn.duration = .minutes(minutes)
        churn.loss = loss
        let (r, wall) = timed { churn.run(seed: common.seed) }
        let l = r.lookups
        print("churn at \(n) nodes, median session \(f(medianMinutes)) min: \(r.departures) departures; \(l.succeeded)/\(l.issued) lookups right (\(f(100 * l.successRate, 2))%)")
        print("  hops p50 \(f(l.hops.p50, 0)) p99 \(f(l.hops.p99, 0)); latency p50 \(f(l.latencyMilliseconds.p50, 0)) ms p99 \(f(l.latencyMilliseconds.p99, 0)) ms; \(f(r.bytesPerNodePerSecond)) B/s per node")
        try Report("churn", seed: common.seed, wallSeconds: wall, figures: r).emit(json: common.json)
    }
}

struct SteadyStateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steady",
        abstract: "The engines benchmark's native steady state on virtual time: idle bytes by message kind, put/get/notify (simulated).")
    @OptionGroup var common: CommonOptions
    @Option(help: "Minutes of the idle window.") var idleMinutes: Double = 11
    @Option(help: "Sequential put trials after the idle window.") var trials = 40
    @Option(help: "Value lifetime in seconds (KademliaRendezvous' default).") var ttl: UInt32 = 300
    @Option(help: "Override Configuration.republishFraction.") var republishFraction: Double?
    @Option(help: "Override Configuration.storeReplicas.") var storeReplicas: Int?

    func run() throws {
        var steady = SteadyState(nodes: common.nodes ?? 64)
        steady.idle = .minutes(idleMinutes)
        steady.trials = trials
        steady.ttl = ttl
        let (r, wall) = timed {
            steady.run(seed: common.seed) { c in
                if let republishFraction { c.republishFraction = republishFraction }
                if let storeReplicas { c.storeReplicas = storeReplicas }
            }
        }
        print("steady state at \(r.nodes) nodes (links 50-100 µs; payload + 28 B IP/UDP per datagram)")
        print("  idle: \(f(r.idleBytesPerNodePerSecond)) B/s, \(f(r.idleDatagramsPerNodePerSecond, 3)) datagrams/s per node; notifications to owners \(r.idleNotifications)")
        print("  by kind (B/s per node): \(r.idleBytesByKind.sorted { $0.value > $1.value }.map { "\($0.key) \(f($0.value))" }.joined(separator: ", "))")
        print("  messages: \(r.idleMessages.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        print("  put p50 \(f(r.putMilliseconds.p50, 2)) p90 \(f(r.putMilliseconds.p90, 2)) ms (acks p50 \(f(r.putAcks.p50, 0))); get p50 \(f(r.getMilliseconds.p50, 2)) ms; notify p50 \(f(r.notifyMilliseconds.p50, 2)) p90 \(f(r.notifyMilliseconds.p90, 2)) ms")
        print("  read-after-write misses \(r.readAfterWriteMisses)/\(trials); notifications missed \(r.notificationsMissed)/\(trials)")
        try Report("steady", seed: common.seed, wallSeconds: wall, figures: r).emit(json: common.json)
    }
}
