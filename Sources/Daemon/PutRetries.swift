import Primitives
import Rendezvous

/// Which failed DHT puts are worth trying again, and when.
///
/// A put can fail for a moment (after a link flap the DHT engine may know no node to store
/// at), and the machine puts a record again only at its next republish, minutes later. So a
/// put that failed with "not stored" is tried again after a short backoff — unless a later
/// put or remove of the same value superseded it, or the gateway left the rendezvous.
struct PutRetries {
    /// A value in the DHT: one record of one owner under one key.
    struct Slot: Hashable {
        let key: RecordKey
        let valueID: UInt64
    }

    /// The first retry waits 1 s; each next one twice as long, up to 30 s.
    static let backoff = Backoff(first: .seconds(1), maximum: .seconds(30))
    /// After this many attempts the next republish takes over.
    static let maximumAttempts = 8

    /// The latest put of each value with a put in flight or a retry pending, counted; a
    /// retry carries the count it was made for. Settled values leave (the table stays small).
    private var generations: [Slot: UInt64] = [:]
    private var counter: UInt64 = 0

    /// A put was issued: earlier retries of this value are superseded.
    mutating func issued(_ slot: Slot) -> UInt64 {
        counter += 1
        generations[slot] = counter
        return counter
    }

    /// A remove was issued: no earlier put of the value is tried again.
    mutating func removed(_ slot: Slot) {
        generations[slot] = nil
    }

    /// The put made for `generation` was stored: nothing is pending for the value unless a
    /// later put is.
    mutating func stored(_ slot: Slot, generation: UInt64) {
        if generations[slot] == generation { generations[slot] = nil }
    }

    /// Values with a put in flight or a retry pending.
    var pending: Int { generations.count }

    /// The gateway left the rendezvous: nothing pending is tried again.
    mutating func forgetAll() {
        generations = [:]
    }

    /// How long to wait before attempt `attempt + 1` of a put that failed with `error`, or nil
    /// if it is not tried again (a permanent failure, or enough attempts).
    static func delay(after error: any Error, attempt: Int) -> Duration? {
        guard case .notStored(_)? = error as? RendezvousError, attempt < maximumAttempts else { return nil }
        return backoff.delay(afterAttempts: attempt)
    }

    /// Whether a retry made for `generation` is still the latest word on its value.
    func isCurrent(_ slot: Slot, generation: UInt64) -> Bool {
        generations[slot] == generation
    }
}
