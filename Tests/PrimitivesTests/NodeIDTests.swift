import Primitives
import Testing

@Suite struct NodeIDTests {
    @Test func bytesRoundTrip() {
        var rng = Xoshiro256(seed: 7)
        for _ in 0..<100 {
            let id = NodeID.random(using: &rng)
            #expect(NodeID(bytes: id.bytes) == id)
            #expect(id.hex.count == 64)
        }
    }

    @Test func recordKeysSeparateNetworksNamespacesAndNames() {
        let a = NetworkID(name: "a"), b = NetworkID(name: "b")
        let k = RecordKey.make(network: a, namespace: "type", name: "_ipp._tcp")
        #expect(k == RecordKey.make(network: a, namespace: "type", name: "_ipp._tcp"))
        #expect(k != RecordKey.make(network: b, namespace: "type", name: "_ipp._tcp"))
        #expect(k != RecordKey.make(network: a, namespace: "island", name: "_ipp._tcp"))
        #expect(RecordKey.make(network: a, namespace: "ab", name: "c") != RecordKey.make(network: a, namespace: "a", name: "bc"))
    }
}
