import Primitives

/// Refuses heartbeats that are not newer than one already taken from their sender: copies
/// captured on the link and sent again (a replayed leader's heartbeats would hold off
/// failover and drag followers back to its old term).
///
/// A sender's heartbeats are ordered by (incarnation, sequence), both under the tag
/// (`HeartbeatCodec`): the incarnation grows with each run of the sender, the sequence with
/// each heartbeat of a run. A heartbeat is taken only when its position is above the last
/// one taken from that sender; so one at or below it, or one from an older incarnation once
/// a newer one was seen, is refused (`HeartbeatRejection.replayed`).
///
/// Deviation from DTLS and IPsec: no window of recent positions that may still arrive out
/// of order. Their windows protect data; a heartbeat is a statement of the sender's current
/// view, and an older one arriving late says nothing the newer one did not supersede.
///
/// What it cannot do: a receiver that has taken nothing from a sender (it just restarted,
/// or forgot the sender among more than `capacity` others) takes the first authentic
/// heartbeat it sees, replayed or not. Each captured heartbeat is then taken at most once,
/// in order, so an outsider holding `k` heartbeats of a dead leader can keep such a
/// gateway following the dead leader for at most about `k` leases (spaced one lease apart),
/// not for as long as the replay goes on. The other gateways of the island remember the
/// leader's last position and refuse those copies; one that outranks the restarted gateway
/// claims meanwhile with a higher term, and the restarted gateway follows it (a higher term
/// wins). Closing the gap needs clocks that agree (a send time under the tag) or a
/// challenge round trip; neither seemed worth it for a gateway that restarts next to a dead
/// leader while an attacker replays on the link.
public struct ReplayGuard: Sendable {
    /// Where a heartbeat sits in its sender's history.
    public struct Position: Comparable, Hashable, Sendable {
        public var incarnation: UInt64
        public var sequence: UInt64

        public static func < (a: Position, b: Position) -> Bool {
            (a.incarnation, a.sequence) < (b.incarnation, b.sequence)
        }
    }

    /// Senders remembered; beyond it the one heard least recently is forgotten. Only holders
    /// of the network key get an entry (the tag is checked first), so an island's handful of
    /// gateways never comes near it.
    public static let capacity = 256

    private var newest: [NodeID: (position: Position, taken: UInt64)] = [:]
    /// Counts heartbeats taken, to tell which sender was heard least recently.
    private var taken: UInt64 = 0

    public init() {}

    /// Takes `beat` if it is newer than the last one taken from its sender; refuses it
    /// (`.replayed`) otherwise and remembers nothing.
    public mutating func admit(_ beat: Heartbeat) -> HeartbeatRejection? {
        let position = Position(incarnation: beat.incarnation, sequence: beat.sequence)
        if let last = newest[beat.sender]?.position, position <= last { return .replayed }
        taken += 1
        newest[beat.sender] = (position, taken)
        if newest.count > Self.capacity, let stalest = newest.min(by: { $0.value.taken < $1.value.taken })?.key {
            newest[stalest] = nil
        }
        return nil
    }

    /// The last position taken from `sender`, if any.
    public func newest(from sender: NodeID) -> Position? { newest[sender]?.position }
}
