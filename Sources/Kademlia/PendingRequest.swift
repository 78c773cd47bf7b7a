import Primitives

/// A request waiting for its answer.
struct PendingRequest: Sendable {
    enum Purpose: Sendable {
        case lookup(UInt64)
        /// A follow-up `findValue` for a key with more values than one datagram holds.
        case moreValues(UInt64, offset: Int)
        case bootstrapPing(RequestID)
        /// A joiner introducing itself to nodes near it that it did not ask.
        case announce
        /// The liveness check of a full bucket's least-recently-seen entry.
        case probe(NodeID)
        case store(UInt64)
        case subscribe(RecordKey)
        /// An id-only republish of own records under a key (`DHTNode+Refresh`).
        case refresh(RecordKey)
        /// A subscriber asking a holder whether values whose lifetime ran out here are
        /// still held (from the `offset`-th value on).
        case check(RecordKey, offset: Int)
        /// The same, by version only (`probe`): the slots asked about.
        case probeValues(RecordKey, [SlotVersion])
        /// Direct exchange: asking a new member whom it knows.
        case peerExchange
        /// Direct exchange: introducing ourselves to a member named by a peer exchange (by
        /// `via`), the `attempt`-th time (`DHTNode+Bridges`).
        case introduce(Contact, via: Contact, attempt: Int)
        /// Direct exchange: handing a member our own records.
        case replicate
        /// Direct exchange: a member silent for a while.
        case liveness(NodeID)
    }

    var endpoint: Endpoint
    var expected: NodeID?
    var purpose: Purpose
    var deadline: Instant
    var sentAt: Instant
    /// Direct exchange: the record a store carries, so that its acknowledgement clears it
    /// from `Redelivery`.
    var redelivers: Redelivery.Ref? = nil
}

/// Round-trip time estimate over all answered requests (RFC 6298's smoothing), so the
/// request timeout follows the network instead of a fixed guess: dead contacts cost a few
/// round trips, not a fixed second.
struct RoundTripEstimate: Sendable {
    var smoothed: Double?
    var variation = 0.0

    mutating func sample(_ rtt: Interval) {
        let r = rtt.seconds
        guard let s = smoothed else {
            smoothed = r
            variation = r / 2
            return
        }
        variation = 0.75 * variation + 0.25 * abs(s - r)
        smoothed = 0.875 * s + 0.125 * r
    }

    func timeout(initial: Interval, min: Interval, max: Interval) -> Interval {
        guard let s = smoothed else { return initial }
        return Swift.min(max, Swift.max(min, .seconds(s + 4 * variation)))
    }
}

/// When a pending request times out (the node's deadline heap holds these, earliest first).
struct Deadline: Comparable, Sendable {
    var at: Instant
    var transaction: UInt32
    static func < (a: Deadline, b: Deadline) -> Bool { (a.at, a.transaction) < (b.at, b.transaction) }
}
