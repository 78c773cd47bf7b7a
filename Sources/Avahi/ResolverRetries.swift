import Primitives

/// Resolvers that failed, and when each is made again.
///
/// A resolver can fail at birth (avahi-daemon refuses the object: its client or object limit)
/// or time out (the service's host did not answer then). Either way the service stays unknown
/// to the gateway until something restarts the resolver — a new sighting, a reconnect —
/// which may never come. So a failed resolver is made again after 1 s, then 2, 4 … up to
/// the backoff's maximum, for as long as its service has no resolution on that interface (the
/// wrapper asks `BrowseTable.needsResolverRetry`), and at once when an object is freed (a
/// refusal for want of room may clear then). Deterministic timing, time as an input.
struct ResolverRetries {
    /// 1, 2, 4 … 30 s: a service that becomes resolvable is learned within the maximum (plus
    /// one resolver's timeout).
    static let backoff = Backoff(first: .seconds(1), maximum: .seconds(30))

    private struct Retry {
        var attempts: Int
        var due: ContinuousClock.Instant
        /// avahi-daemon refused the object (no room), rather than the resolver timing out:
        /// freed room is worth an attempt at once.
        var refused: Bool
        /// Made again and not answered yet.
        var running = false
    }

    private var retries: [ResolverKey: Retry] = [:]

    var count: Int { retries.count }

    /// The wait after `attempts` failures: 1, 2, 4 … 30 s.
    static func delay(afterAttempts attempts: Int) -> Duration { backoff.delay(afterAttempts: attempts) }

    /// `key`'s resolver failed (again): it is due after the next step of its backoff.
    /// `refused`: avahi-daemon would not make it (see `capacityFreed`).
    mutating func failed(_ key: ResolverKey, refused: Bool, now: ContinuousClock.Instant) {
        let attempts = (retries[key]?.attempts ?? 0) + 1
        retries[key] = Retry(attempts: attempts, due: now + Self.delay(afterAttempts: attempts), refused: refused)
    }

    /// Resolved, stopped, or no longer wanted: no retry.
    mutating func forget(_ key: ResolverKey) {
        retries[key] = nil
    }

    /// An object was freed (a resolver stopped, a publication withdrawn): a resolver avahi-daemon
    /// refused for want of room may be made now, so every such one waiting is due at once
    /// (not those that timed out: room is not what they lack). True when one became due.
    mutating func capacityFreed(now: ContinuousClock.Instant) -> Bool {
        let waiting = retries.filter { $0.value.refused && !$0.value.running && $0.value.due > now }.keys
        for key in waiting { retries[key]?.due = now }
        return !waiting.isEmpty
    }

    /// Every resolver is gone with its client.
    mutating func reset() {
        retries = [:]
    }

    /// Failures so far of `key`'s resolver (0 when it is not waiting for a retry).
    func attempts(_ key: ResolverKey) -> Int { retries[key]?.attempts ?? 0 }

    /// The resolvers due by `now`, in a stable order. They stay counted: a failure again
    /// continues their backoff, `forget` ends it.
    func due(now: ContinuousClock.Instant) -> [ResolverKey] {
        retries.filter { $0.value.due <= now }.keys.sorted {
            ($0.id, $0.sighting, $0.family) < ($1.id, $1.sighting, $1.family)
        }
    }

    /// Pushes a due retry past `now` while its new resolver runs (a failure sets the real next
    /// time; a resolver that neither fails nor answers is made again after the backoff's maximum).
    mutating func started(_ key: ResolverKey, now: ContinuousClock.Instant) {
        retries[key]?.due = now + Self.backoff.maximum
        retries[key]?.running = true
    }

    var nextDue: ContinuousClock.Instant? { retries.values.map(\.due).min() }
}
