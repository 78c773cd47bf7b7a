import Kademlia
import Primitives
import Testing

/// Issue 18, point 9: a leader's overlay stage once flapped between alone and
/// interconnection 110 times in 90 s. Can it happen? The suspect is one-way reachability:
/// a node that hears a peer's requests takes it into its mesh (interconnection), then drops
/// it when its own requests go unanswered (alone), then takes it in again. Here one direction
/// of a two-node overlay loses every datagram for 30 minutes: the side that formed the
/// overlay has no seeds and stays quiet, the other re-pings its seed every `reseedInterval`,
/// which refreshes the member instead of re-admitting it. At most one change each way.
@Suite struct OneWayReachabilityTests {
    @Test(arguments: [0, 1])
    func aPeerThatCannotBeAnsweredDoesNotMakeTheStageFlap(deaf: Int) {
        var net = TestNetwork(count: 2) { $0.structureThreshold = 16 }
        net.form()
        net.stages = []
        // From now on nothing from `deaf` reaches the other node; the other still reaches it.
        net.lose = { from, _, _ in from == deaf }
        net.run(for: .seconds(1_800))
        print("mesh sizes", net.nodes.map(\.mesh.count), "stage", net.nodes.map(\.stage))
        for node in 0..<2 {
            let changes = net.stages.filter { $0.node == node }.map(\.stage)
            print("node \(node) (\(node == deaf ? "cannot be heard" : "can be heard")): \(changes.count) stage changes in 30 min: \(changes.prefix(8))")
            #expect(changes.count <= 2, "node \(node): \(changes.count) stage changes in 30 min")
        }
    }
}
