import Primitives

extension Stage {
    /// The island's stage as this gateway sees it, decided here and nowhere else:
    /// bootstrapping until a leader is elected; then the overlay's stage, where a leader whose
    /// overlay knows nobody yet is already interconnecting (looking for other leaders) and a
    /// follower is still bootstrapping.
    public static func of(leaderElected: Bool, leading: Bool, overlay: Stage) -> Stage {
        guard leaderElected else { return .bootstrapping }
        if overlay == .bootstrapping { return leading ? .interconnection : .bootstrapping }
        return overlay
    }
}
