@testable import Island
import Primitives
import Testing

struct ReplayGuardTests {
    let sender = NodeID(w0: 5, w1: 5, w2: 5, w3: 5)

    func beat(from sender: NodeID? = nil, incarnation: UInt64, sequence: UInt64) -> Heartbeat {
        Heartbeat(network: NetworkID(rawValue: 1), sender: sender ?? self.sender, priority: 1, role: .leader, island: nil,
                  leader: nil, term: 1, incarnation: incarnation, sequence: sequence, port: 7400)
    }

    @Test func takesEachPositionOnceAndOnlyUpwards() {
        var guard_ = ReplayGuard()
        #expect(guard_.admit(beat(incarnation: 10, sequence: 5)) == nil)
        #expect(guard_.admit(beat(incarnation: 10, sequence: 5)) == .replayed)
        #expect(guard_.admit(beat(incarnation: 10, sequence: 4)) == .replayed, "late or replayed: the newer one superseded it")
        #expect(guard_.admit(beat(incarnation: 10, sequence: 7)) == nil, "a gap is loss, not a replay")
        #expect(guard_.newest(from: sender) == ReplayGuard.Position(incarnation: 10, sequence: 7))
        #expect(HeartbeatRejection.replayed.reason == "replayed")
    }

    @Test func aNewerRunEndsTheOlderOne() {
        var guard_ = ReplayGuard()
        #expect(guard_.admit(beat(incarnation: 10, sequence: 900)) == nil)
        #expect(guard_.admit(beat(incarnation: 20, sequence: 1)) == nil)
        #expect(guard_.admit(beat(incarnation: 10, sequence: 901)) == .replayed)
        #expect(guard_.admit(beat(incarnation: 9, sequence: 1)) == .replayed)
    }

    @Test func sendersAreKeptApart() {
        var guard_ = ReplayGuard()
        let other = NodeID(w0: 6, w1: 6, w2: 6, w3: 6)
        #expect(guard_.admit(beat(incarnation: 10, sequence: 5)) == nil)
        #expect(guard_.admit(beat(from: other, incarnation: 10, sequence: 5)) == nil)
        #expect(guard_.admit(beat(from: other, incarnation: 10, sequence: 5)) == .replayed)
    }

    /// The documented gap: a guard that never heard the sender takes each captured
    /// heartbeat once, in order, and no more; so replays run out.
    @Test func aFreshReceiverTakesEachCapturedHeartbeatAtMostOnce() {
        var guard_ = ReplayGuard()
        let captured = (1...4).map { beat(incarnation: 10, sequence: UInt64($0)) }
        var taken = 0
        for _ in 0..<10 {
            for heartbeat in captured where guard_.admit(heartbeat) == nil { taken += 1 }
        }
        #expect(taken == captured.count)
    }

    @Test func forgetsTheSenderHeardLeastRecentlyBeyondItsCapacity() {
        var guard_ = ReplayGuard()
        let senders = (0...UInt64(ReplayGuard.capacity)).map { NodeID(w0: $0, w1: 1, w2: 1, w3: 1) }
        for sender in senders { #expect(guard_.admit(beat(from: sender, incarnation: 1, sequence: 1)) == nil) }
        #expect(guard_.newest(from: senders[0]) == nil)
        #expect(guard_.newest(from: senders[1]) != nil)
        #expect(guard_.admit(beat(from: senders[1], incarnation: 1, sequence: 1)) == .replayed)
    }
}
