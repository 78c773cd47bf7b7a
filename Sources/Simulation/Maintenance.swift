import Kademlia
import Primitives

/// Idle maintenance traffic: form an overlay, then let it idle and count every datagram
/// (payload + IP/UDP headers) per live node per second, over windows at least as long as
/// every maintenance cycle; then subscribe each node to one random key and count what the
/// subscriptions add.
public struct Maintenance: Sendable {
    public var nodes = 1_000
    /// The idle phase: two hours, since the longest timer (bucket refresh) is one hour and
    /// the first hour still settles what the formation left (ranges never heard from).
    public var idle: Interval = .minutes(120)
    /// The window that the "at least 11 minutes" names, reported at both ends.
    public var window: Interval = .minutes(11)
    /// How long the subscription phase is measured (covers the 30-minute relookup).
    public var subscribed: Interval = .minutes(60)
    public var subscriptionsPerNode = 1
    /// Runs the subscription phase without subscribing (the baseline run).
    var withoutSubscriptions = false

    public init(nodes: Int = 1_000) { self.nodes = nodes }

    public struct Window: Hashable, Sendable, Codable {
        public var startMinutes: Double
        public var minutes: Double
        public var bytesPerNodePerSecond: Double
        public var datagramsPerNodePerSecond: Double
        /// Messages sent in the window by kind, over all nodes.
        public var messages: [String: Int] = [:]
    }

    public struct Result: Hashable, Sendable, Codable {
        public var nodes: Int
        public var formedAfterLastJoin: Double?
        /// The first window after formation (includes the neighbourhood checks backing off).
        public var firstWindow: Window
        /// The last window of the idle phase.
        public var steadyWindow: Window
        /// The second hour of the idle phase (steady state: every timer ran at least once).
        public var secondHour: Window
        /// The whole idle phase.
        public var wholeIdle: Window
        public var subscriptions: Int
        public var subscriptionsEstablished: Int
        /// Whole subscription phase, all traffic.
        public var subscribedWindow: Window
        /// The same window in the same run without subscriptions.
        public var baselineWindow: Window?
        /// (subscribed traffic - baseline traffic) per subscription per second.
        public var bytesPerSubscriptionPerSecond: Double
    }

    public func run(seed: UInt64) -> Result {
        let simulation = Simulation(seed: seed)
        let formation = Formation(nodes: nodes, rate: 1_000, lookups: 100).run(on: simulation)
        let live = Double(simulation.liveIndices.count)
        func measure(_ duration: Interval, from origin: Instant) -> Window {
            let start = simulation.now
            let before = simulation.traffic
            let sentBefore = simulation.messagesSent
            simulation.run(for: duration)
            let d = simulation.traffic - before
            let seconds = duration.seconds
            var messages: [String: Int] = [:]
            for (kind, n) in simulation.messagesSent where n != sentBefore[kind] { messages[kind] = n - (sentBefore[kind] ?? 0) }
            return Window(
                startMinutes: start.since(origin).seconds / 60, minutes: seconds / 60,
                bytesPerNodePerSecond: Double(d.bytes) / live / seconds,
                datagramsPerNodePerSecond: Double(d.datagrams) / live / seconds, messages: messages)
        }
        let idleStart = simulation.now
        let idleBefore = simulation.traffic
        let first = measure(window, from: idleStart)
        let hour = Interval.minutes(60)
        simulation.run(until: idleStart + Interval(nanoseconds: idle.nanoseconds - hour.nanoseconds))
        let secondHourStart = simulation.now
        let secondHourBefore = simulation.traffic
        simulation.run(until: idleStart + Interval(nanoseconds: idle.nanoseconds - window.nanoseconds))
        let steady = measure(window, from: idleStart)
        let secondHourTraffic = simulation.traffic - secondHourBefore
        let secondHour = Window(
            startMinutes: secondHourStart.since(idleStart).seconds / 60, minutes: 60,
            bytesPerNodePerSecond: Double(secondHourTraffic.bytes) / live / hour.seconds,
            datagramsPerNodePerSecond: Double(secondHourTraffic.datagrams) / live / hour.seconds)
        let idleTraffic = simulation.traffic - idleBefore
        let whole = Window(
            startMinutes: 0, minutes: idle.seconds / 60,
            bytesPerNodePerSecond: Double(idleTraffic.bytes) / live / idle.seconds,
            datagramsPerNodePerSecond: Double(idleTraffic.datagrams) / live / idle.seconds)

        // Subscriptions: every node subscribes to random keys; setup is not counted. The
        // same run without subscriptions (same seed, so identical up to here) gives the
        // baseline of the same window.
        let baseline: Window? = withoutSubscriptions ? nil : {
            var plain = self
            plain.withoutSubscriptions = true
            return plain.run(seed: seed).subscribedWindow
        }()
        var established = 0
        simulation.onEffect = { _, e in if case .completed(_, .subscribed) = e { established += 1 } }
        var count = 0
        for i in simulation.liveIndices where !withoutSubscriptions {
            for _ in 0..<subscriptionsPerNode {
                count += 1
                let key = RecordKey.make(network: simulation.networkID, namespace: "bench", name: "sub-\(count)")
                simulation.command(i, .subscribe(RequestID(UInt64(count)), key))
            }
        }
        simulation.run(for: .minutes(1))
        let withSubs = measure(subscribed, from: idleStart)
        simulation.onEffect = nil
        let extra = (withSubs.bytesPerNodePerSecond - (baseline?.bytesPerNodePerSecond ?? 0)) * live / Double(max(1, count))
        return Result(
            nodes: nodes, formedAfterLastJoin: formation.stableAfter, firstWindow: first, steadyWindow: steady, secondHour: secondHour,
            wholeIdle: whole, subscriptions: count, subscriptionsEstablished: established,
            subscribedWindow: withSubs, baselineWindow: baseline, bytesPerSubscriptionPerSecond: extra)
    }
}
