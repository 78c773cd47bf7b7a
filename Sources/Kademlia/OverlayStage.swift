/// How far a node's overlay has come, after its island elected it (DESIGN.md's stages 2–4).
///
/// - `alone`: it knows no other node (or has lost them all).
/// - `interconnection`: a small mesh in direct exchange — every put goes to every member,
///   every member holds every value, subscriptions are served from the local copy.
/// - `structure`: the overlay is a Kademlia DHT (reached at `Configuration.structureThreshold`
///   members, or on hearing from a structured node); it never returns to direct exchange
///   while it knows anyone.
/// - `merging`: it just met another overlay (or its own, after a partition) and is moving
///   into the merged one.
public enum OverlayStage: String, Hashable, Sendable, CaseIterable {
    case alone, interconnection, structure, merging
}
