import Primitives

/// Each record owner's wall clock as this node reckons it, so that a record is held to its
/// issue time (`Record.issuedAt`) on its owner's clock rather than on ours: gateways in ad hoc
/// networks often have no NTP, and a Raspberry Pi without a real-time clock boots hours or
/// days behind. Compared with our own clock, such an owner's fresh records would all look
/// stale and nothing of its island would cross.
///
/// The reckoning: each verified record gives a sample, our wall clock minus its issue time,
/// which is the owner's offset plus the record's age (never less). The smallest sample is
/// the best estimate, and nobody without the owner's key can make a smaller one (a replay
/// is older, so larger). An owner's records are then stale when `issuedAt + ttl + skew` is
/// past on `our clock - offset`.
///
/// What it gives up: an owner not heard from for `horizon` (every record of a live owner is
/// republished well within it) is forgotten, and its next record, replayed or not, sets the
/// estimate again: a replay of a gateway silent that long is taken once, for at most its
/// remaining lifetime, as after a restart of this node. An owner whose clock is set back by
/// more than a lifetime is held to its old reckoning until it is forgotten (silent for
/// `horizon`) — set back clocks break its sequence numbers for as long anyway.
struct OwnerClocks: Sendable {
    struct Estimate: Sendable {
        /// Our wall clock minus the owner's (seconds), the smallest sample.
        var offset: Int64
        var lastSample: Instant
    }

    /// Owners remembered; beyond it the one sampled least recently is forgotten.
    static let capacity = 4_096
    let horizon: Interval
    private(set) var estimates: [NodeID: Estimate] = [:]

    init(horizon: Interval) { self.horizon = horizon }

    /// `owner`'s wall clock now as we reckon it, or nil when we have no estimate (its
    /// records are then taken as fresh as they say).
    func wall(of owner: NodeID, ourWall: UInt64, now: Instant) -> UInt64? {
        guard let estimate = estimates[owner], now.since(estimate.lastSample) <= horizon else { return nil }
        let (wall, overflow) = Int64(clamping: ourWall).subtractingReportingOverflow(estimate.offset)
        return overflow ? nil : UInt64(clamping: wall)
    }

    /// A verified record of `owner` issued at `issuedAt` arrived when our clock read `ourWall`.
    mutating func observe(_ owner: NodeID, issuedAt: UInt64, ourWall: UInt64, now: Instant) {
        let (sample, overflow) = Int64(clamping: ourWall).subtractingReportingOverflow(Int64(clamping: issuedAt))
        guard !overflow else { return }
        if let estimate = estimates[owner], now.since(estimate.lastSample) <= horizon {
            estimates[owner] = Estimate(offset: min(estimate.offset, sample), lastSample: now)
        } else {
            estimates[owner] = Estimate(offset: sample, lastSample: now)
            if estimates.count > Self.capacity, let stalest = estimates.min(by: { $0.value.lastSample < $1.value.lastSample })?.key {
                estimates[stalest] = nil
            }
        }
    }
}
