import ArgumentParser
import DHTRendezvous
import Foundation
import Kademlia
import NIOPosix
import OpenDHTRendezvous
import Primitives
import Rendezvous
import Synchronization
import Transport

/// The native engine and OpenDHT side by side, on the same harness: for every engine and
/// every N, one process of N rendezvous nodes on 127.0.0.1 in a network namespace of its
/// own (so the namespace's loopback counters count exactly that engine's datagrams). All
/// runs of one invocation go at once, so both engines share the machine's conditions.
///
/// Phases in each process: join through node 0 until the routing tables stop growing; a
/// gateway-like steady state (every node puts one value and subscribes to one key); an idle
/// window (kernel bytes, packets and CPU per node); then sequential trials: put on one
/// node, get on another right after the put returned (a miss: the value is not there),
/// and the time until a third node that subscribed beforehand is told.
struct EnginesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engines",
        abstract: "Native DHT vs OpenDHT rendezvous on loopback in network namespaces (needs root).")

    @Option(help: "Comma-separated numbers of nodes, one run per engine each.") var nodes = "16,64"
    @Option(help: "Engines: native, opendht, or both.") var engine = "both"
    @Option(help: "Minutes of the idle window (the issue asks for at least 11).") var idleMinutes: Double = 11
    @Option(help: "Seconds of steady state before the idle window.") var settleSeconds: Double = 30
    @Option(help: "Put/get/notify trials.") var trials = 40
    @Option(help: "Directory for each run's JSON and log.") var output = "/tmp/z2z-bench-engines"
    @Flag(help: .hidden) var inside = false

    func run() async throws {
        let counts = nodes.split(separator: ",").compactMap { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 2 }) else { throw ValidationError("--nodes: numbers of at least 2") }
        let engines = engine == "both" ? ["native", "opendht"] : [engine]
        guard engines.allSatisfy({ ["native", "opendht"].contains($0) }) else { throw ValidationError("--engine: native, opendht or both") }
        if inside {
            guard let count = counts.first, let name = engines.first else { return }
            return try await measure(engine: name, count: count)
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let runs = counts.flatMap { n in engines.map { (engine: $0, nodes: n) } }
        let namespaces = runs.map { "z2zbench-\($0.engine)-\($0.nodes)-\(getpid())" }
        let created = try BenchNamespaces(namespaces)
        defer { created.close() }
        var processes: [Process] = []
        for (run, namespace) in zip(runs, namespaces) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ip", "netns", "exec", namespace, CommandLine.arguments[0], "engines", "--inside",
                                 "--engine", run.engine, "--nodes", "\(run.nodes)", "--idle-minutes", "\(idleMinutes)",
                                 "--settle-seconds", "\(settleSeconds)", "--trials", "\(trials)", "--output", output]
            let log = "\(output)/\(run.engine)-\(run.nodes).log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: log)
            process.standardError = process.standardOutput
            try process.run()
            processes.append(process)
            emit("engines: started \(run.engine) with \(run.nodes) nodes in \(namespace) (log \(log))")
        }
        for process in processes { process.waitUntilExit() }
        var results: [EngineFigures] = []
        for run in runs {
            let path = "\(output)/\(run.engine)-\(run.nodes).json"
            guard let data = FileManager.default.contents(atPath: path),
                  let figures = try? JSONDecoder().decode(EngineFigures.self, from: data) else {
                emit("engines: \(run.engine) with \(run.nodes) nodes left no figures (see its log)")
                continue
            }
            results.append(figures)
        }
        print(EngineFigures.table(results))
    }

    // MARK: inside the namespace

    func measure(engine: String, count: Int) async throws {
        let wall = Date()
        let network = NetworkID(name: "engines-bench")
        let baseline = try ProcessFigures.now()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var nodes: [BenchNode] = []
        nodes.append(try BenchNode.make(engine: engine, network: network, seed: nil, group: group))
        let figures = try await withThrowingTaskGroup(of: Void.self) { tasks -> EngineFigures in
            defer { tasks.cancelAll() }
            let first = nodes[0]
            tasks.addTask { await first.run() }
            let seed = try await first.endpoint()
            for _ in 1..<count {
                let node = try BenchNode.make(engine: engine, network: network, seed: seed, group: group)
                nodes.append(node)
                tasks.addTask { await node.run() }
            }
            for node in nodes {
                await node.rendezvous.join()
                try await Task.sleep(for: .milliseconds(10))
            }
            let (joinSeconds, peers) = try await converge(nodes)
            emit("engines: \(engine) \(count) nodes converged in \(f(joinSeconds))s, \(f(peers)) peers on average")

            // Steady state, as gateways: one exported value and one subscribed type per node.
            let keys = (0..<16).map { RecordKey.make(network: network, namespace: "type", name: "_steady\($0)._tcp") }
            let steady = Locked(0)
            for (index, node) in nodes.enumerated() {
                let changes = await node.rendezvous.subscribe(key: keys[(index + 1) % keys.count])
                tasks.addTask { for await _ in changes { steady.withLock { $0 += 1 } } }
                _ = try? await withTimeout(.seconds(10)) {
                    try await node.rendezvous.put(key: keys[index % keys.count], valueID: 1, payload: Array(repeating: 0x5a, count: 200))
                }
            }
            try await Task.sleep(for: .seconds(settleSeconds))

            // Idle window.
            let before = try ProcessFigures.now()
            let loBefore = try loopback()
            emit("engines: \(engine) \(count) nodes idle for \(f(idleMinutes)) min")
            try await Task.sleep(for: .seconds(idleMinutes * 60))
            let after = try ProcessFigures.now()
            let loAfter = try loopback()

            // Trials.
            let trialFigures = try await trials(nodes, network: network, tasks: &tasks)
            let seconds = idleMinutes * 60, n = Double(count)
            let bytes = loAfter.bytes - loBefore.bytes, packets = loAfter.packets - loBefore.packets
            return EngineFigures(
                engine: engine, nodes: count, joinSeconds: joinSeconds, meanPeers: peers, idleMinutes: idleMinutes,
                idleBytesPerNodePerSecond: Double(bytes - 14 * packets) / n / seconds,
                idlePacketsPerNodePerSecond: Double(packets) / n / seconds,
                idleCPUPercentPerNode: (after.cpuSeconds - before.cpuSeconds) / seconds / n * 100,
                rssMiBPerNode: (after.rssMiB - baseline.rssMiB) / n,
                trials: trialFigures, steadyNotifications: steady.withLock { $0 })
        }
        for node in nodes { await node.close() }
        try await group.shutdownGracefully()
        let data = try JSONEncoder().encode(figures)
        _ = FileManager.default.createFile(atPath: "\(output)/\(engine)-\(count).json", contents: data)
        emit(EngineFigures.table([figures]))
        emit("engines: \(engine) \(count) nodes done in \(f(Date().timeIntervalSince(wall)))s")
    }

    /// Joined until every node knows someone and the routing tables stopped growing (the
    /// sum of their sizes unchanged over ten samples a second apart), at most 3 minutes.
    func converge(_ nodes: [BenchNode]) async throws -> (seconds: Double, meanPeers: Double) {
        let start = ContinuousClock.now
        var history: [Int] = []
        while ContinuousClock.now - start < .seconds(180) {
            var sizes: [Int] = []
            for node in nodes { sizes.append(await node.rendezvous.stats().peers) }
            history.append(sizes.reduce(0, +))
            if sizes.allSatisfy({ $0 > 0 }), history.count >= 10, Set(history.suffix(10)).count == 1 {
                // The time the tables reached their final size: nine samples back.
                let seconds = Double((ContinuousClock.now - start).components.seconds) - 9
                return (max(seconds, 0), Double(history.last ?? 0) / Double(nodes.count))
            }
            try await Task.sleep(for: .seconds(1))
        }
        emit("engines: routing tables did not converge within 3 minutes")
        return (180, Double(history.last ?? 0) / Double(nodes.count))
    }

    func trials(_ nodes: [BenchNode], network: NetworkID, tasks: inout ThrowingTaskGroup<Void, any Error>) async throws -> TrialFigures {
        var rng = Xoshiro256(seed: 7)
        let plans = (0..<trials).map { index -> (writer: Int, reader: Int, subscriber: Int, key: RecordKey) in
            let writer = Int(rng.next() % UInt64(nodes.count))
            var reader = Int(rng.next() % UInt64(nodes.count)), subscriber = Int(rng.next() % UInt64(nodes.count))
            if reader == writer { reader = (reader + 1) % nodes.count }
            if subscriber == writer { subscriber = (subscriber + 2) % nodes.count }
            if subscriber == writer { subscriber = (subscriber + 1) % nodes.count }
            return (writer, reader, subscriber, RecordKey.make(network: network, namespace: "trial", name: "\(index)"))
        }
        let notified = Locked<[Int: ContinuousClock.Instant]>([:])
        for (index, plan) in plans.enumerated() {
            let changes = await nodes[plan.subscriber].rendezvous.subscribe(key: plan.key)
            tasks.addTask {
                for await change in changes {
                    if case .upserted = change {
                        let now = ContinuousClock.now
                        notified.withLock { if $0[index] == nil { $0[index] = now } }
                    }
                }
            }
        }
        // The same settling time for both engines' subscriptions to be placed.
        try await Task.sleep(for: .seconds(5))
        var put: [Double] = [], get: [Double] = [], notify: [Double] = []
        var misses = 0, notifyMisses = 0, putFailures = 0
        for (index, plan) in plans.enumerated() {
            let payload = Array("trial \(index)".utf8)
            let start = ContinuousClock.now
            let stored = (try? await withTimeout(.seconds(15)) {
                try await nodes[plan.writer].rendezvous.put(key: plan.key, valueID: 1, payload: payload)
            }) != nil
            let putDone = ContinuousClock.now
            if !stored { putFailures += 1 }
            put.append(ms(putDone - start))
            let found = (try? await withTimeout(.seconds(15)) {
                try await nodes[plan.reader].rendezvous.get(key: plan.key)
            }) ?? []
            get.append(ms(ContinuousClock.now - putDone))
            if !found.contains(where: { $0.payload == payload }) { misses += 1 }
            let deadline = start + .seconds(10)
            while notified.withLock({ $0[index] }) == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            if let at = notified.withLock({ $0[index] }) { notify.append(ms(at - start)) } else { notifyMisses += 1 }
        }
        return TrialFigures(trials: trials, put: Percentiles(put), get: Percentiles(get), notify: Percentiles(notify),
                            readAfterWriteMisses: misses, notifyMisses: notifyMisses, putFailures: putFailures)
    }

    func ms(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    func loopback() throws -> (bytes: Int, packets: Int) { try UDPIdleCommand().loCounters() }
}

/// One rendezvous node of either engine, as the benchmark drives it.
struct BenchNode: Sendable {
    let rendezvous: any Rendezvous
    let run: @Sendable () async -> Void
    let endpoint: @Sendable () async throws -> Endpoint
    let close: @Sendable () async -> Void

    static func make(engine: String, network: NetworkID, seed: Endpoint?, group: MultiThreadedEventLoopGroup) throws -> BenchNode {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        if engine == "opendht" {
            let node = try OpenDHTRendezvous(identity: Identity(), network: network, port: 0, seeds: seed.map { [$0] } ?? [],
                                             wallClockMilliseconds: now, retryInterval: .seconds(1), ipv6: false)
            return BenchNode(rendezvous: node, run: { await node.run() },
                             endpoint: { Endpoint(ipv4: 127, 0, 0, 1, port: node.node.port) }, close: {})
        }
        let peer = DHTPeer(identity: Identity(), configuration: Configuration(network: network), host: "127.0.0.1", group: group)
        let node = KademliaRendezvous(peer: peer, seeds: seed.map { [$0] } ?? [], wallClockMilliseconds: now,
                                      retryInterval: .seconds(1))
        return BenchNode(rendezvous: node, run: {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await peer.run() }
                group.addTask { await node.run() }
                await group.waitForAll()
            }
        }, endpoint: { try await peer.endpoint }, close: {})
    }
}

/// Median and 95th percentile of a sample, in milliseconds.
struct Percentiles: Codable {
    var count: Int
    var median: Double
    var p95: Double

    init(_ sample: [Double]) {
        let sorted = sample.sorted()
        count = sorted.count
        func at(_ q: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))] }
        median = at(0.5)
        p95 = at(0.95)
    }
}

struct TrialFigures: Codable {
    var trials: Int
    var put: Percentiles
    var get: Percentiles
    var notify: Percentiles
    var readAfterWriteMisses: Int
    var notifyMisses: Int
    var putFailures: Int
}

struct EngineFigures: Codable {
    var engine: String
    var nodes: Int
    var joinSeconds: Double
    var meanPeers: Double
    var idleMinutes: Double
    /// Loopback bytes without the 14-byte Ethernet header lo counts: IP + UDP + payload.
    var idleBytesPerNodePerSecond: Double
    var idlePacketsPerNodePerSecond: Double
    var idleCPUPercentPerNode: Double
    var rssMiBPerNode: Double
    var trials: TrialFigures
    var steadyNotifications: Int

    /// Markdown: one column per run.
    static func table(_ runs: [EngineFigures]) -> String {
        let sorted = runs.sorted { ($0.nodes, $0.engine) < ($1.nodes, $1.engine) }
        var lines = ["| | " + sorted.map { "\($0.engine) N=\($0.nodes)" }.joined(separator: " | ") + " |",
                     "|---|" + sorted.map { _ in "---" }.joined(separator: "|") + "|"]
        func row(_ name: String, _ value: (EngineFigures) -> String) {
            lines.append("| \(name) | " + sorted.map(value).joined(separator: " | ") + " |")
        }
        row("join until tables converge (s)") { f($0.joinSeconds) }
        row("routing table (mean peers)") { f($0.meanPeers) }
        row("idle bytes/s per node (IP+UDP)") { f($0.idleBytesPerNodePerSecond) }
        row("idle packets/s per node") { f($0.idlePacketsPerNodePerSecond, 2) }
        row("idle CPU per node (% of a core)") { f($0.idleCPUPercentPerNode, 3) }
        row("RSS per node (MiB)") { f($0.rssMiBPerNode, 2) }
        row("put median / p95 (ms)") { "\(f($0.trials.put.median)) / \(f($0.trials.put.p95))" }
        row("get after put median / p95 (ms)") { "\(f($0.trials.get.median)) / \(f($0.trials.get.p95))" }
        row("subscribe-notify median / p95 (ms)") { "\(f($0.trials.notify.median)) / \(f($0.trials.notify.p95))" }
        row("read-after-write misses") { "\($0.trials.readAfterWriteMisses)/\($0.trials.trials)" }
        row("notifications missed (10 s)") { "\($0.trials.notifyMisses)/\($0.trials.trials)" }
        row("puts failed") { "\($0.trials.putFailures)/\($0.trials.trials)" }
        return lines.joined(separator: "\n")
    }
}

/// CPU time and resident memory of this process.
struct ProcessFigures {
    var cpuSeconds: Double
    var rssMiB: Double

    static func now() throws -> ProcessFigures {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        let kib = line.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Double($0) } } ?? 0
        return ProcessFigures(cpuSeconds: cpu, rssMiB: kib / 1024)
    }
}

/// A value shared with child tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

struct TimedOut: Error {}

/// `body`'s result, or `TimedOut` after `limit` (the body is cancelled).
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TimedOut() }
        return first
    }
}
