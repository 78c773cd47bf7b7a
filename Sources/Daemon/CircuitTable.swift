import DNSSD
import Island
import Policy
import Primitives

/// What a circuit relay through this leader may carry (issue 14: two islands behind NAT
/// meet through a third, reachable leader, under that leader's policy): streams to another
/// island's service, forwarded to that island's leader, when this leader would import it.
public struct CircuitTable: Sendable {
    public var leaders: [IslandID: (leader: NodeID, name: String)] = [:]
    public var gate: PolicyGate?

    public init(leaders: [IslandID: (leader: NodeID, name: String)] = [:], gate: PolicyGate? = nil) {
        self.leaders = leaders
        self.gate = gate
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
    /// This leader's policy keeps the type from that island out.
    case denied
}
