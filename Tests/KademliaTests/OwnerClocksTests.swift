@testable import Kademlia
import Primitives
import Testing

struct OwnerClocksTests {
    let owner = NodeID(w0: 7, w1: 0, w2: 0, w3: 0)
    let ours: UInt64 = 1_765_000_000

    @Test func theSmallestSampleIsTheEstimateAndAReplayCannotMoveIt() {
        var clocks = OwnerClocks(horizon: .seconds(900))
        #expect(clocks.wall(of: owner, ourWall: ours, now: .zero) == nil)
        // The owner runs an hour behind; its record arrives 2 s after it was issued.
        clocks.observe(owner, issuedAt: ours - 3_600 - 2, ourWall: ours, now: .zero)
        #expect(clocks.wall(of: owner, ourWall: ours, now: .zero) == ours - 3_602)
        // A fresher one (0 s in transit) lowers the offset; a replay (issued 10 min earlier) does not raise it.
        clocks.observe(owner, issuedAt: ours + 10 - 3_600, ourWall: ours + 10, now: Instant.zero + .seconds(10))
        clocks.observe(owner, issuedAt: ours - 3_600 - 600, ourWall: ours + 20, now: Instant.zero + .seconds(20))
        #expect(clocks.wall(of: owner, ourWall: ours + 20, now: Instant.zero + .seconds(20)) == ours + 20 - 3_600)
    }

    @Test func anOwnerSilentPastTheHorizonIsForgottenAndReckonedAgain() {
        var clocks = OwnerClocks(horizon: .seconds(900))
        clocks.observe(owner, issuedAt: ours, ourWall: ours, now: .zero)
        let late = Instant.zero + .seconds(901)
        #expect(clocks.wall(of: owner, ourWall: ours + 901, now: late) == nil)
        clocks.observe(owner, issuedAt: ours - 50, ourWall: ours + 901, now: late) // its clock was set back meanwhile
        #expect(clocks.wall(of: owner, ourWall: ours + 901, now: late) == ours - 50)
    }
}
