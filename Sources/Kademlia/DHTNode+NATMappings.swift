import Primitives

/// Behind NAT (issue 14): a node whose router masquerades it is reached by other nodes'
/// datagrams only through the mappings its own datagrams opened, and a router forgets an
/// idle mapping within a minute or two. A member that pushes a record, or a holder that
/// notifies a change, after a quiet spell then finds the mapping gone, and the change waits
/// for the NATed node's next request (its republish, minutes later).
///
/// - Knowing it: a peer exchange names the asker first, at the endpoint the answering member
///   sees it at (as libp2p's identify reports the observed address). A node whose observed
///   address is not one of its host's own (`Command.hostAddresses`, from the adapter) is
///   behind NAT. It needs nothing else: no port mapping protocol, no help from the router.
/// - Keeping the mappings: a node behind NAT pings, every `natKeepalive`, the members and
///   the subscription holders it has not heard from for that long — those that must reach
///   it. A node not behind NAT (or that does not know its host's addresses) sends nothing
///   more than before.
///
/// Not done: such a node still enters other nodes' routing tables in the structure stage
/// (more than `structureThreshold` leaders), where their requests to it fail once the
/// mapping is gone (a client-only membership would keep it out).
extension DHTNode {
    /// Whether the address other nodes see this node at is not its host's own.
    public var behindNAT: Bool {
        guard let observedEndpoint, !hostAddresses.isEmpty else { return false }
        return !hostAddresses.contains(observedEndpoint.address)
    }

    /// Behind NAT: pings the subscription holders (other than members, which `checkMembers`
    /// keeps) not pinged for `natKeepalive`.
    mutating func keepHolderMappings(now: Instant) {
        guard behindNAT else {
            keepalives.removeAll()
            return
        }
        var holders: [NodeID: Contact] = [:]
        for s in subscriptions.values {
            for (holderID, h) in s.holders where holderID != id && !mesh.contains(holderID) && h.until > now {
                holders[holderID] = h.contact
            }
        }
        keepalives = keepalives.filter { holders[$0.key] != nil }
        for (holderID, contact) in holders.sorted(by: { $0.key < $1.key }) {
            if let last = keepalives[holderID], now.since(last) < configuration.natKeepalive { continue }
            keepalives[holderID] = now
            send(.ping, to: contact.endpoint, expecting: holderID, purpose: .announce, now: now)
        }
    }
}
