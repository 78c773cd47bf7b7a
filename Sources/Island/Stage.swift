/// The four stages of an island's life (DESIGN.md), as one enum for every part that names
/// one: the election and the overlay feed it, `z2z status` and the metrics report it.
///
/// - `bootstrapping`: the gateways of a link find each other and elect a leader (an
///   overlay node that knows no other node is here too);
/// - `interconnection`: the leader meets other islands' leaders and exchanges records
///   with them directly (a small mesh);
/// - `structure`: the leaders form a Kademlia DHT;
/// - `merging`: two overlays that formed apart are becoming one.
public enum Stage: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case bootstrapping, interconnection, structure, merging

    public var description: String { rawValue }

    /// The island's stage as this gateway sees it: bootstrapping until a leader is elected;
    /// then the overlay's stage, where a leader whose overlay knows nobody yet is already
    /// interconnecting (looking for other leaders) and a follower is still bootstrapping.
    public static func of(leaderElected: Bool, leading: Bool, overlay: Stage) -> Stage {
        guard leaderElected else { return .bootstrapping }
        if overlay == .bootstrapping { return leading ? .interconnection : .bootstrapping }
        return overlay
    }
}
