/// When what a heard record showed out of date (`BrowseTable.outdated(by:)`) is resolved
/// or watched again, under `.onChange` upkeep.
///
/// - Not at once, but `settle` after the first such record: avahi-daemon has read the same
///   datagram by then, and an older record it flushes (a cache-flush record replaces the
///   others of its name one second later, RFC 6762 §10.2) is gone from its cache before a
///   resolver reads it. Further records for the same target meanwhile change nothing.
/// - At most once per `gap` for one target: records that keep disagreeing with what a
///   resolver reads (two responders answering for one name) cannot make a loop of queries.
/// Deterministic timing, time as an input.
struct RecordRefreshes {
    static let settle = Duration.milliseconds(1_500)
    static let gap = Duration.seconds(5)

    private var pending: [BrowseTable.Outdated: ContinuousClock.Instant] = [:]
    /// When each target was last made due, for `gap`.
    private var last: [BrowseTable.Outdated: ContinuousClock.Instant] = [:]

    var count: Int { pending.count }

    /// A record heard at `now` showed `target` out of date.
    mutating func heard(_ target: BrowseTable.Outdated, now: ContinuousClock.Instant) {
        guard pending[target] == nil else { return }
        let earliest = last[target].map { $0 + Self.gap } ?? now
        pending[target] = max(now + Self.settle, earliest)
    }

    /// When the next target is due (nil: none pending).
    var nextDue: ContinuousClock.Instant? { pending.values.min() }

    /// The targets due at `now`, sorted; they are no longer pending.
    mutating func due(now: ContinuousClock.Instant) -> [BrowseTable.Outdated] {
        let ready = pending.filter { $0.value <= now }.keys.sorted()
        for target in ready {
            pending[target] = nil
            last[target] = now
        }
        last = last.filter { now < $0.value + Self.gap }
        return ready
    }

    /// The responder connection is gone, and what was resolved with it is resolved afresh.
    mutating func reset() {
        pending = [:]
        last = [:]
    }
}
