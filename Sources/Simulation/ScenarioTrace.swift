import Primitives
import Foundation
import Kademlia

/// A line of traffic figures every few virtual seconds, for watching a long scenario run:
/// live nodes, overlays and merges, bytes and datagrams by kind, lookup requests by
/// purpose, simulator events and wall time.
enum ScenarioTrace {
    static func start(_ sim: Simulation, every period: Interval, to write: @escaping @Sendable (String) -> Void) {
        var last = (bytes: 0, events: 0, messages: [String: Int](), kinds: [String: Int]())
        let wall = Date()
        func line(_ sim: Simulation) {
            let live = sim.liveIndices
            let merging = live.filter { sim.node($0).stage == .merging }.count
            let overlays = Set(live.compactMap { sim.node($0).overlay }).count
            let merges = sim.nodes.reduce(0) { $0 + $1.node.counters.merges.values.reduce(0, +) }
            let messages = sim.messagesSent, kinds = sim.bytesByKind
            func deltas(_ now: [String: Int], _ before: [String: Int], _ keep: (String) -> Bool) -> String {
                now.filter { keep($0.key) }.map { ($0.key, $0.value - (before[$0.key] ?? 0)) }.filter { $0.1 > 0 }
                    .sorted { $0.1 > $1.1 }.prefix(6).map { "\($0.0) \($0.1)" }.joined(separator: ", ")
            }
            write("t=\(Int(sim.now.since(.zero).seconds)) s, wall \(Int(Date().timeIntervalSince(wall))) s: "
                + "\(sim.traffic.bytes - last.bytes) B, \(sim.eventsProcessed - last.events) events; live \(live.count), "
                + "overlays \(overlays), merging \(merging), merges \(merges)\n"
                + "  bytes: \(deltas(kinds, last.kinds) { _ in true })\n"
                + "  datagrams: \(deltas(messages, last.messages) { !$0.hasPrefix("requests:") })\n"
                + "  lookup requests: \(deltas(messages, last.messages) { $0.hasPrefix("requests:") })")
            last = (sim.traffic.bytes, sim.eventsProcessed, messages, kinds)
            sim.schedule(at: sim.now + period, line)
        }
        sim.schedule(at: sim.now + period, line)
    }
}
