@testable import Gateway
import Island
import Primitives
import Testing

/// Heartbeats captured on the link and sent again later (issue 18, point 1): refused as
/// `replayed`, counted, and without effect on failover.
struct HeartbeatReplayTests {
    let network = NetworkID(rawValue: 0x2a)
    /// A host on the link without the network key; it can only copy what it heard.
    let attacker = Endpoint(ipv4: 10, 1, 0, 99, port: 7400)

    func keyedWorld() -> GatewayWorld {
        var world = GatewayWorld()
        world.networkKey = NetworkKey(secret: Array("the island's network key".utf8), network: network)
        return world
    }

    @Test func aLeaderKilledWhileItsHeartbeatsAreReplayedIsReplacedWithinItsLease() throws {
        var world = keyedWorld()
        let leader = world.addGateway(island: 1, priority: 200)
        let follower = world.addGateway(island: 1, priority: 100)
        world.run(for: .seconds(6))
        try #require(world.leaders(island: 1) == [leader])
        let oldTerm = world.gateways[follower].machine.view.term
        world.capturing = true
        world.run(for: .seconds(3))
        let captured = world.captured.filter { $0.from == leader && $0.to == follower }.map(\.bytes)
        try #require(captured.count >= 2)

        world.kill(leader)
        let killedAt = world.now
        var tookOver: Instant?
        // The probe: every 0.25 s, the captured heartbeats again, for 10 s.
        for _ in 0..<40 {
            for bytes in captured { world.inject(heartbeat: bytes, to: follower, from: attacker) }
            world.run(for: .milliseconds(250))
            if tookOver == nil, world.leaders(island: 1) == [follower] { tookOver = world.now }
        }

        let failover = try #require(tookOver).since(killedAt)
        // The lease is 3 heartbeats of 1 s (the daemon's default, as in the 2.25 s).
        #expect(failover <= .seconds(3.25), "took over after \(failover)")
        #expect(world.leaders(island: 1) == [follower], "the replays did not drag it back")
        #expect(world.gateways[follower].machine.view.term > oldTerm)
        let refused = world.rejections[follower] ?? []
        #expect(refused.count == 40 * captured.count, "every replay is counted")
        #expect(refused.allSatisfy { $0 == "heartbeat_replayed" })
    }

    @Test func aReplayOfAnEarlierRunIsRefusedOnceTheSendersNewRunWasHeard() {
        var machine = GatewayMachine(settings: GatewayMachine.Settings(id: NodeID(w0: 1, w1: 0, w2: 0, w3: 0), network: network,
                                                                       priority: 100, port: 7400, seed: 1))
        let sender = NodeID(w0: 9, w1: 9, w2: 9, w3: 9)
        func beat(incarnation: UInt64, sequence: UInt64) -> [UInt8] {
            HeartbeatCodec.encode(Heartbeat(network: network, sender: sender, priority: 200, role: .leader, island: IslandID(rawValue: 7),
                                            leader: sender, term: 5, incarnation: incarnation, sequence: sequence, port: 7400))
        }
        func refusals(_ bytes: [UInt8]) -> [String] {
            machine.handle(.heartbeat(bytes, from: attacker), now: .zero).compactMap {
                if case .fact(.rejected(let reason, _)) = $0 { reason } else { nil }
            }
        }
        #expect(refusals(beat(incarnation: 1_000, sequence: 40)).isEmpty)
        #expect(refusals(beat(incarnation: 1_000, sequence: 40)) == ["heartbeat_replayed"])
        #expect(refusals(beat(incarnation: 1_000, sequence: 39)) == ["heartbeat_replayed"])
        #expect(refusals(beat(incarnation: 2_000, sequence: 1)).isEmpty, "a restart starts its sequence again")
        #expect(refusals(beat(incarnation: 1_000, sequence: 41)) == ["heartbeat_replayed"], "the older run is over")
        #expect(refusals(beat(incarnation: 2_000, sequence: 2)).isEmpty)
    }
}
