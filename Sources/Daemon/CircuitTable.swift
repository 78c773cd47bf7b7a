import DNSSD
import Island
import Policy
import Primitives

/// What a circuit relay through this leader may carry (issue 14: two islands behind NAT
/// meet through a third, reachable leader, under that leader's policy): streams to another
/// island's service, forwarded to that island's leader, when this leader would import it.
///
/// It also says where the other leaders' relays listen (their directory entries), so that an
/// importing leader that reached no circuit relay yet can try theirs: the reachable leader
/// may export nothing, and then no import ever took this leader to its relay.
public struct CircuitTable: Sendable {
    public var leaders: [IslandID: (leader: NodeID, name: String)] = [:]
    /// Each of those leaders' relay endpoints (none when its relay is off).
    public var relays: [NodeID: [Endpoint]] = [:]
    public var gate: PolicyGate?

    public init(leaders: [IslandID: (leader: NodeID, name: String)] = [:], relays: [NodeID: [Endpoint]] = [:], gate: PolicyGate? = nil) {
        self.leaders = leaders
        self.relays = relays
        self.gate = gate
    }

    /// Up to `limit` other leaders whose relays to try as circuit relays, with their endpoints,
    /// leaving out `excluded` (the exporting leader, this one); by node id, so that both
    /// islands behind NAT pick the same relay where they can.
    public func circuitCandidates(excluding excluded: Set<NodeID>, limit: Int) -> [(leader: NodeID, endpoints: [Endpoint])] {
        relays.filter { !excluded.contains($0.key) && !$0.value.isEmpty }.sorted { $0.key < $1.key }.prefix(limit)
            .map { ($0.key, $0.value) }
    }

    /// The leader a stream to `type` of `island` goes to, or why it does not.
    public func route(_ type: ServiceType, of island: IslandID) -> Result<NodeID, CircuitRefusal> {
        guard let gate, let entry = leaders[island] else { return .failure(.unknownIsland) }
        let verdict = gate.importVerdict(type, from: PolicyIsland(id: island.rawValue, name: entry.name.isEmpty ? nil : entry.name))
        return verdict.permits ? .success(entry.leader) : .failure(.denied)
    }
}

public enum CircuitRefusal: Error, Hashable, Sendable {
    /// Not an island this leader knows (or it does not lead).
    case unknownIsland
    /// This leader's policy keeps the type from that island out.
    case denied
}
