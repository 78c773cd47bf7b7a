@testable import Island
import Primitives

/// A link of gateways running `Election` on virtual time: heartbeats arrive after a fixed
/// delay, unless the sender or receiver is stopped or the pair is cut apart.
struct ElectionHarness {
    struct Gateway {
        var election: Election
        var endpoint: Endpoint
        var running = true
    }

    var gateways: [Election]
    var endpoints: [Endpoint]
    var running: [Bool]
    var now = Instant.zero
    let delay = Interval.milliseconds(1)
    private var inFlight: [(at: Instant, to: Int, beat: Heartbeat, from: Endpoint)] = []
    var cut: Set<[Int]> = []
    /// Every (time, gateway, role) change, to check invariants over the whole run.
    var history: [(at: Instant, gateway: Int, role: Role, island: IslandID?)] = []

    static let network = NetworkID(rawValue: 0x5a5a)

    init() {
        gateways = []
        endpoints = []
        running = []
    }

    static func nodeID(_ index: Int) -> NodeID { NodeID(w0: UInt64(index + 1) << 56, w1: 0, w2: 0, w3: UInt64(index)) }

    /// Adds a gateway that starts now and advertises itself to everyone running (as mDNS would).
    @discardableResult
    mutating func add(priority: UInt8, island: IslandID? = nil) -> Int {
        let index = gateways.count
        let endpoint = Endpoint(ipv4: 10, 0, 1, UInt8(10 + index), port: 7400)
        let election = Election(id: Self.nodeID(index), network: Self.network, priority: priority, port: 7400,
                                island: island, seed: UInt64(index + 1))
        gateways.append(election)
        endpoints.append(endpoint)
        running.append(true)
        for other in gateways.indices where other != index && running[other] {
            apply(other, .advertised(gateways[index].id, endpoint, priority: priority))
            apply(index, .advertised(gateways[other].id, endpoints[other], priority: gateways[other].priority))
        }
        apply(index, .tick)
        return index
    }

    /// Stops a gateway abruptly (kill -9): it neither sends nor receives, and its advert stays
    /// in others' caches (mDNS would keep it for a while).
    mutating func kill(_ index: Int) { running[index] = false }

    /// Restarts a stopped gateway with the island id it had remembered.
    mutating func restart(_ index: Int) {
        let old = gateways[index]
        gateways[index] = Election(id: old.id, network: Self.network, priority: old.priority, port: 7400,
                                   island: old.island, seed: UInt64(index + 100))
        running[index] = true
        for other in gateways.indices where other != index && running[other] {
            apply(index, .advertised(gateways[other].id, endpoints[other], priority: gateways[other].priority))
        }
        apply(index, .tick)
    }

    mutating func apply(_ index: Int, _ input: Election.Input) {
        guard running[index] else { return }
        let outputs = gateways[index].handle(input, now: now)
        for output in outputs {
            switch output {
            case .send(let beat, let endpoint):
                guard let target = endpoints.firstIndex(of: endpoint), !cut.contains([index, target].sorted()) else { continue }
                inFlight.append((now + delay, target, beat, endpoints[index]))
            case .changed(let transition):
                history.append((now, index, transition.role, transition.island))
            }
        }
    }

    /// Advances virtual time to `end`, delivering heartbeats and ticking at deadlines.
    mutating func run(for duration: Interval) {
        let end = now + duration
        while true {
            let nextDelivery = inFlight.map(\.at).min()
            let nextTick = gateways.indices.filter { running[$0] }.compactMap { gateways[$0].nextDeadline }.min()
            guard let next = [nextDelivery, nextTick].compactMap({ $0 }).min(), next <= end else { break }
            now = max(now, next)
            if let index = inFlight.firstIndex(where: { $0.at <= now }) {
                let message = inFlight.remove(at: index)
                apply(message.to, .heartbeat(message.beat, from: message.from))
            } else {
                for index in gateways.indices where running[index] {
                    if let deadline = gateways[index].nextDeadline, deadline <= now { apply(index, .tick) }
                }
            }
        }
        now = end
    }

    var leaders: [Int] { gateways.indices.filter { running[$0] && gateways[$0].role == .leader } }
}
