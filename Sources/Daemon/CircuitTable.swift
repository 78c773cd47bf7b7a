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

    /// The leader a stream to the instance `name` of `type` of `island` goes to, or why it
    /// does not. The stream names no host or addresses, so a deny rule that picks instances
    /// by them and may apply refuses it: a relay errs on the side of the policy.
    public func route(_ type: ServiceType, named name: InstanceName, of island: IslandID) -> Result<NodeID, CircuitRefusal> {
        guard let gate, let entry = leaders[island] else { return .failure(.unknownIsland) }
        let service = PolicyService(type: type, name: name)
        let origin = PolicyIsland(id: island.rawValue, name: entry.name.isEmpty ? nil : entry.name)
        let mayDeny = gate.policy.passedOver(direction: .import, service: service, island: origin).contains {
            gate.policy.rules[$0 - 1].action == .deny
        }
        return gate.importVerdict(service, from: origin).permits && !mayDeny ? .success(entry.leader) : .failure(.denied)
    }
}

public enum CircuitRefusal: Error, Hashable, Sendable {
    /// Not an island this leader knows (or it does not lead).
    case unknownIsland
    /// This leader's policy keeps the service from that island out (or may: see `route`).
    case denied
}
