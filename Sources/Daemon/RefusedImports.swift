import Gateway
import LocalDomain
import Primitives

/// Imports avahi-daemon refused to publish, and when each is tried again.
///
/// A refusal is usually about capacity (its per-client object limit, its client limit), and
/// capacity comes back: an import withdrawn, the daemon restarted with a larger limit. So a
/// refused import is not forgotten: it is tried again after 1 s, then 2, 4 … up to 60 s
/// between attempts, for as long as the machine wants it published — and at once whenever
/// capacity may have come back (`capacityMayHaveFreed`). Timing is deterministic (no jitter:
/// one gateway, one local daemon, nobody to desynchronize from) and time is an input.
///
/// Pure bookkeeping for `GatewayDriver`, which carries the attempts out in order with its
/// other publications.
struct RefusedImports {
    struct Refusal: Sendable {
        /// The publication as the machine last asked for it (updates while refused land here).
        var publication: Publication
        var reason: String
        /// Attempts so far, the first publish included.
        var attempts: Int
        var due: Instant
        /// Handed to the driver (`takeDue`) and not answered yet: not due again meanwhile.
        var inFlight = false
    }

    /// The first retry waits 1 s; each next one twice as long, up to 60 s.
    static let backoff = Backoff(first: .seconds(1), maximum: .seconds(60))

    private(set) var refusals: [ImportKey: Refusal] = [:]

    var isEmpty: Bool { refusals.isEmpty }

    /// The wait after `attempts` failed attempts: 1, 2, 4 … 60 s.
    static func delay(afterAttempts attempts: Int) -> Interval { Interval(backoff.delay(afterAttempts: attempts)) }

    /// An attempt to publish `key` was refused; `publication` is the latest the machine asked
    /// for. Returns whether this is its first refusal (the one worth an event; later ones only
    /// move the next attempt).
    @discardableResult
    mutating func refused(_ key: ImportKey, _ publication: Publication, reason: String, now: Instant) -> Bool {
        let attempts = (refusals[key]?.attempts ?? 0) + 1
        let first = refusals[key] == nil
        refusals[key] = Refusal(publication: publication, reason: reason, attempts: attempts,
                                due: now + Self.delay(afterAttempts: attempts))
        return first
    }

    /// An attempt succeeded: the import is published. Returns the refusal it ends, if any.
    @discardableResult
    mutating func published(_ key: ImportKey) -> Refusal? {
        refusals.removeValue(forKey: key)
    }

    /// The machine updated a refused import: the next attempt publishes the new one. False
    /// when `key` is not refused.
    mutating func updated(_ key: ImportKey, to publication: Publication) -> Bool {
        guard refusals[key] != nil else { return false }
        refusals[key]?.publication = publication
        return true
    }

    /// The machine no longer wants `key` published: nothing to retry. False when it was not refused.
    @discardableResult
    mutating func withdrawn(_ key: ImportKey) -> Bool {
        refusals.removeValue(forKey: key) != nil
    }

    /// An object was freed (a publication withdrawn) or the daemon runs again: every refused
    /// import is due now rather than at the end of its backoff.
    mutating func capacityMayHaveFreed(now: Instant) {
        for key in refusals.keys where !(refusals[key]?.inFlight ?? true) { refusals[key]?.due = now }
    }

    /// The refused imports due by `now`, in key order, each marked in flight until it is
    /// answered with `refused` or `published` (or withdrawn).
    mutating func takeDue(now: Instant) -> [(key: ImportKey, publication: Publication)] {
        let due = refusals.filter { !$0.value.inFlight && $0.value.due <= now }.keys.sorted()
        return due.compactMap { key in
            refusals[key]?.inFlight = true
            return refusals[key].map { (key, $0.publication) }
        }
    }

    /// When the next refused import is due, if one is waiting.
    var nextDue: Instant? {
        refusals.values.filter { !$0.inFlight }.map(\.due).min()
    }
}
