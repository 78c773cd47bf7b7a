import Kademlia
import Primitives
import Testing

@Suite struct KeySpaceTests {
    @Test func nodeIDIsSHA256OfThePublicKey() {
        let identity = Fixtures.identity(1)
        #expect(identity.id == NodeID(publicKey: identity.publicKey))
        #expect(identity.publicKey.count == 32)
        #expect(Fixtures.identity(1).id == identity.id, "same key, same id")
        #expect(Fixtures.identity(2).id != identity.id)
    }

    @Test func xorMetricIsSymmetricAndZeroOnlyForItself() {
        var rng = Xoshiro256(seed: 8)
        for _ in 0..<100 {
            let a = NodeID.random(using: &rng), b = NodeID.random(using: &rng)
            #expect(a.distance(to: b) == b.distance(to: a))
            #expect(a.distance(to: a).leadingZeroBitCount == 256)
            #expect(a.distance(to: b).leadingZeroBitCount < 256)
        }
    }

    @Test func randomPointSharesExactlyTheRequestedPrefix() {
        var rng = Xoshiro256(seed: 9)
        let base = NodeID.random(using: &rng)
        for prefix in [0, 1, 7, 63, 64, 65, 127, 200, 255] {
            let p = base.randomPoint(sharingPrefix: prefix, using: &rng)
            #expect(base.distance(to: p).leadingZeroBitCount == prefix)
        }
    }
}
