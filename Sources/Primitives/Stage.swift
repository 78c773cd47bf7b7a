/// The four stages of an island's life (DESIGN.md), one enum for every part that names one:
/// the overlay reports its own (`DHTNode.stage`, `RendezvousStats.stage`), the island
/// decides its stage from that and the election (`Stage.of` in Island), and `z2z status`
/// and the metrics report it.
///
/// - `bootstrapping`: the gateways of a link find each other and elect a leader; an
///   overlay node that knows no other node is here too;
/// - `interconnection`: a leader meets other islands' leaders and exchanges records with
///   them directly (a small mesh: every put goes to every member);
/// - `structure`: the leaders form a Kademlia DHT (at `Configuration.structureThreshold`
///   members, or on hearing from a structured node), and never return to direct exchange
///   while they know anyone;
/// - `merging`: two overlays that formed apart (or one, after a partition) are becoming one.
public enum Stage: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case bootstrapping, interconnection, structure, merging

    public var description: String { rawValue }
}
