import Kademlia
import Primitives
import Testing

/// Direct exchange across NAT (`DHTNode+Bridges`), on virtual time: members 1 and 2 are
/// behind NAT (neither datagram between them arrives), member 0 reaches both.
@Suite struct BridgeTests {
    let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "_ipp._tcp")

    /// Three members in direct exchange; 1 and 2 cannot reach each other.
    func natted(subscribeFirst: Bool) -> TestNetwork {
        var net = TestNetwork(count: 3) { $0.structureThreshold = 16 }
        net.lose = { from, to, _ in Set([from, to]) == [1, 2] }
        if subscribeFirst {
            for i in 0..<3 { net.command(i, .subscribe(RequestID(UInt64(10 + i)), key)) }
        }
        net.form()
        if !subscribeFirst {
            for i in 0..<3 { net.command(i, .subscribe(RequestID(UInt64(10 + i)), key)) }
            net.run(for: .seconds(2))
        }
        return net
    }

    /// What node `i` was told about slots of `owner`, in order.
    func changes(_ net: TestNetwork, at i: Int, of owner: Int) -> [ValueChange] {
        let ownerID = net.nodes[owner].id
        return net.notifications.filter { $0.node == i }.map(\.notification.change).filter {
            switch $0 {
            case .new(let r), .changed(let r), .deleted(let r): r.owner == ownerID
            case .expired(let slot): slot.owner == ownerID
            }
        }
    }

    @Test(arguments: [true, false])
    func twoMembersThatCannotReachEachOtherGetEachOthersRecordsThroughOneBoth(subscribeFirst: Bool) {
        var net = natted(subscribeFirst: subscribeFirst)
        #expect(net.nodes[1].mesh.count == 1 && net.nodes[2].mesh.count == 1, "1 and 2 never met")
        #expect(net.nodes[2].unreachableMembers == 1, "the later joiner was named 1 and could not reach it")
        #expect(net.nodes[0].bridgedMembers == 1)

        let one = net.nodes[1].identity.record(key: key, sequence: 1, ttl: 120, payload: [1])
        let two = net.nodes[2].identity.record(key: key, sequence: 1, ttl: 120, payload: [2])
        net.command(1, .put(RequestID(21), one))
        net.command(2, .put(RequestID(22), two))
        net.run(for: .seconds(3))
        #expect(changes(net, at: 2, of: 1) == [.new(one)], "through the lease at 0")
        #expect(changes(net, at: 1, of: 2) == [.new(two)], "forwarded by 0")

        // Republished by id only for ten lifetimes: nobody's copy runs out.
        net.run(for: .seconds(1_200))
        #expect(changes(net, at: 2, of: 1) == [.new(one)])
        #expect(changes(net, at: 1, of: 2) == [.new(two)])

        // Withdrawals cross the same ways.
        net.command(1, .put(RequestID(31), net.nodes[1].identity.tombstone(for: one)))
        net.command(2, .put(RequestID(32), net.nodes[2].identity.tombstone(for: two)))
        net.run(for: .seconds(3))
        #expect(changes(net, at: 2, of: 1).last.map { if case .deleted = $0 { true } else { false } } == true)
        #expect(changes(net, at: 1, of: 2).last.map { if case .deleted = $0 { true } else { false } } == true)
    }

    @Test func recordsPutBeforeTheBridgeWasNeededStillReachTheMemberThatCannotBeReached() {
        var net = TestNetwork(count: 3) { $0.structureThreshold = 16 }
        net.lose = { from, to, _ in Set([from, to]) == [1, 2] }
        net.form(0..<2)
        let one = net.nodes[1].identity.record(key: key, sequence: 1, ttl: 600, payload: [1])
        net.command(1, .put(RequestID(21), one))
        net.run(for: .seconds(2))
        // 2 joins and puts at once, before its introduction to 1 has failed.
        net.command(2, .subscribe(RequestID(12), key))
        net.command(1, .subscribe(RequestID(11), key))
        net.command(2, .bootstrap(RequestID(1), [TestNetwork.endpoint(0)]))
        let two = net.nodes[2].identity.record(key: key, sequence: 1, ttl: 600, payload: [2])
        net.run(for: .milliseconds(100))
        net.command(2, .put(RequestID(22), two))
        net.run(for: .seconds(20))
        #expect(changes(net, at: 2, of: 1) == [.new(one)])
        #expect(changes(net, at: 1, of: 2) == [.new(two)], "forwarded when 2 first leased at 0")
    }

    @Test func membersThatReachEachOtherPayNothing() {
        var net = TestNetwork(count: 5) { $0.structureThreshold = 16 }
        for i in 0..<5 { net.command(i, .subscribe(RequestID(UInt64(10 + i)), key)) }
        net.form()
        for i in 0..<5 {
            net.command(i, .put(RequestID(UInt64(20 + i)), net.nodes[i].identity.record(key: key, sequence: 1, ttl: 120, payload: [UInt8(i)])))
        }
        net.run(for: .seconds(600))
        for node in net.nodes {
            #expect(node.unreachableMembers == 0 && node.bridgedMembers == 0 && node.counters.bridgeForwards == 0)
            #expect(node.subscriptions[key]?.holders.count == 1, "its own lease only")
        }
        #expect(net.notifications.filter { if case .expired = $0.notification.change { true } else { false } }.isEmpty)
    }

    @Test func aLostIntroductionIsAskedAgainBeforeTheMemberCountsAsUnreachable() {
        var net = TestNetwork(count: 3) { $0.structureThreshold = 16 }
        var lostPings = 0
        // The first ping from 2 to 1 (its introduction) is lost, nothing else.
        net.lose = { from, to, message in
            guard from == 2, to == 1, message.body == .ping, lostPings == 0 else { return false }
            lostPings += 1
            return true
        }
        net.form()
        #expect(lostPings == 1)
        #expect(net.nodes[1].mesh.count == 2 && net.nodes[2].mesh.count == 2, "the second ping arrived")
        #expect(net.nodes[2].unreachableMembers == 0 && net.nodes[0].bridgedMembers == 0)
    }
}
