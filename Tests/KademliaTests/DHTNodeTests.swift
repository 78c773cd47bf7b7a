import Kademlia
import Primitives
import Testing

@Suite struct DHTNodeTests {
    func header(_ sender: NodeID, network: NetworkID = Fixtures.network, transaction: UInt32 = 7) -> MessageHeader {
        MessageHeader(network: network, sender: sender, transaction: transaction)
    }

    @Test func aPingIsAnsweredAndItsSenderLearned() {
        var node = DHTNode(identity: Fixtures.identity(1), configuration: Configuration(network: Fixtures.network), seed: 1)
        let peer = Fixtures.identity(2).id
        let effects = node.handle(.received(Message(header: header(peer), body: .ping), from: Fixtures.endpoint(2)), now: .zero)
        guard case .send(let reply, let to) = effects.first else { Issue.record("no reply"); return }
        #expect(reply.body == .pong && reply.header.transaction == 7 && to == Fixtures.endpoint(2))
        #expect(node.table.contains(peer))
    }

    @Test func messagesFromAnotherNetworkAreDroppedWithAReason() {
        var node = DHTNode(identity: Fixtures.identity(1), configuration: Configuration(network: Fixtures.network), seed: 1)
        let effects = node.handle(.received(Message(header: header(Fixtures.identity(2).id, network: NetworkID(name: "other")), body: .ping), from: Fixtures.endpoint(2)), now: .zero)
        #expect(effects == [.dropped(.wrongNetwork)])
        #expect(DropReason.wrongNetwork.reason == "wrong_network")
        #expect(node.table.count == 0)
    }

    @Test func aResponseNobodyAskedForIsDropped() {
        var node = DHTNode(identity: Fixtures.identity(1), configuration: Configuration(network: Fixtures.network), seed: 1)
        let effects = node.handle(.received(Message(header: header(Fixtures.identity(2).id), body: .pong), from: Fixtures.endpoint(2)), now: .zero)
        #expect(effects == [.dropped(.unexpectedResponse)])
        #expect(node.table.count == 0, "an unsolicited response teaches nothing")
    }

    @Test func aFullBucketEvictsItsOldestEntryOnlyWhenItFailsToAnswer() {
        var config = Configuration(network: Fixtures.network)
        config.k = 2
        var node = DHTNode(identity: Fixtures.identity(1), configuration: config, seed: 1)
        let local = node.id
        // Two far peers fill bucket 0 (k = 2), one close peer lives deeper.
        let far = [Fixtures.id(near: local, leadingZeros: 0, seed: 1), Fixtures.id(near: local, leadingZeros: 0, seed: 2)]
        _ = node.handle(.received(Message(header: header(Fixtures.id(near: local, leadingZeros: 9, seed: 3)), body: .ping), from: Fixtures.endpoint(3)), now: .zero)
        _ = node.handle(.received(Message(header: header(Fixtures.id(near: local, leadingZeros: 8, seed: 4)), body: .ping), from: Fixtures.endpoint(4)), now: .zero)
        for (i, id) in far.enumerated() {
            _ = node.handle(.received(Message(header: header(id), body: .ping), from: Fixtures.endpoint(10 + i)), now: .zero)
        }
        #expect(far.allSatisfy { node.table.contains($0) })
        // A third far peer, after the oldest went quiet: the node probes the oldest, no eviction yet.
        let newcomer = Fixtures.id(near: local, leadingZeros: 0, seed: 5)
        let effects = node.handle(.received(Message(header: header(newcomer), body: .ping), from: Fixtures.endpoint(20)), now: Fixtures.at(120))
        let probes = effects.compactMap { e -> Endpoint? in if case .send(let m, let to) = e, m.body == .ping { return to } else { return nil } }
        #expect(probes == [Fixtures.endpoint(10)])
        #expect(node.table.contains(far[0]) && !node.table.contains(newcomer))
        // The probe times out: now, and only now, the oldest is replaced.
        _ = node.handle(.tick, now: Fixtures.at(122))
        #expect(!node.table.contains(far[0]) && node.table.contains(newcomer))
    }

    @Test func lookupsConvergeToTheTrueClosestNodes() {
        var net = TestNetwork(count: 40)
        net.form()
        var rng = Xoshiro256(seed: 11)
        for r in 1...10 {
            let target = NodeID.random(using: &rng)
            let from = Int(rng.next() % 40)
            net.command(from, .lookup(RequestID(UInt64(r)), target))
            net.run(for: .seconds(5))
            guard case .lookup(let report) = net.outcome(RequestID(UInt64(r))) else { Issue.record("lookup \(r) did not finish"); continue }
            let truth = net.nodes.map(\.id).filter { $0 != net.nodes[from].id }.sorted { $0.distance(to: target) < $1.distance(to: target) }
            #expect(report.closest.map(\.id) == Array(truth.prefix(20)))
        }
    }

    @Test func aPutIsAcknowledgedAndAnyNodeCanGetIt() {
        var net = TestNetwork(count: 30)
        net.form()
        let owner = net.nodes[3].identity
        let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "_ipp._tcp")
        net.command(3, .put(RequestID(1), owner.record(key: key, sequence: 1, ttl: 600, payload: [42])))
        net.run(for: .seconds(5))
        guard case .put(let acks, let attempted, let rejections, _) = net.outcome(RequestID(1)) else { Issue.record("no put outcome"); return }
        #expect(acks == attempted && attempted == Configuration(network: Fixtures.network).storeReplicas && rejections.isEmpty)
        net.command(17, .get(RequestID(2), key))
        net.run(for: .seconds(5))
        guard case .get(let records, _) = net.outcome(RequestID(2)) else { Issue.record("no get outcome"); return }
        #expect(records.map(\.payload) == [[42]])
    }

    @Test func holdersRefuseAForgedRecordWithTheirReason() {
        var net = TestNetwork(count: 25)
        net.form()
        let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "x")
        var forged = net.nodes[2].identity.record(key: key, sequence: 1, ttl: 600, payload: [1])
        forged.payload = [2]
        net.command(4, .put(RequestID(1), forged))
        net.run(for: .seconds(5))
        guard case .put(let acks, let attempted, let rejections, _) = net.outcome(RequestID(1)) else { Issue.record("no put outcome"); return }
        #expect(acks == 0)
        #expect(rejections[.badSignature] == attempted)
    }

    @Test func subscribersAreToldOfNewChangedAndDeletedValues() {
        var net = TestNetwork(count: 25)
        net.form()
        let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "_ipp._tcp")
        net.command(9, .subscribe(RequestID(1), key))
        net.run(for: .seconds(5))
        guard case .subscribed(let holders) = net.outcome(RequestID(1)) else { Issue.record("not subscribed"); return }
        #expect(holders == 4)

        let owner = net.nodes[5].identity
        let v1 = owner.record(key: key, sequence: 1, ttl: 600, payload: [1])
        net.command(5, .put(RequestID(2), v1))
        let putAt = net.now
        net.run(for: .seconds(5))
        let v2 = owner.record(key: key, sequence: 2, ttl: 600, payload: [2])
        net.command(5, .put(RequestID(3), v2))
        net.run(for: .seconds(5))
        let gone = owner.tombstone(for: v2)
        net.command(5, .put(RequestID(4), gone))
        net.run(for: .seconds(5))

        let changes = net.notifications.filter { $0.node == 9 }.map(\.notification.change)
        #expect(changes == [.new(v1), .changed(v2), .deleted(gone)], "each change once, although four holders push it")
        #expect(net.notifications.allSatisfy { $0.notification.request == RequestID(1) })
        _ = putAt
    }

    @Test func aValueThatIsNotRepublishedExpiresAtTheSubscriber() {
        var net = TestNetwork(count: 10)
        net.form()
        let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "y")
        net.command(1, .subscribe(RequestID(1), key))
        net.run(for: .seconds(5))
        // A record owned by someone else, stored once by node 2 (so nobody republishes it).
        let record = Fixtures.identity(200).record(key: key, sequence: 1, ttl: 60, payload: [1])
        net.command(2, .put(RequestID(2), record))
        net.run(for: .seconds(120))
        let changes = net.notifications.filter { $0.node == 1 }.map(\.notification.change)
        #expect(changes == [.new(record), .expired(record.slot)])
    }

    @Test func theOwnerRepublishesItsRecordsBeforeTheyExpire() {
        var net = TestNetwork(count: 10)
        net.form()
        let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "z")
        net.command(3, .put(RequestID(1), net.nodes[3].identity.record(key: key, sequence: 1, ttl: 60, payload: [7])))
        net.run(for: .seconds(600))
        net.command(8, .get(RequestID(2), key))
        net.run(for: .seconds(5))
        guard case .get(let records, _) = net.outcome(RequestID(2)) else { Issue.record("no get outcome"); return }
        #expect(records.map(\.payload) == [[7]], "still there ten lifetimes later")
    }

    // MARK: slots

    @Test func aGetReturnsTheNewestValueOfEverySlot() {
        var net = TestNetwork(count: 30)
        net.form()
        let owner = net.nodes[3].identity
        let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "_ipp._tcp")
        net.command(3, .put(RequestID(1), owner.record(key: key, valueID: 1, sequence: 1, ttl: 600, payload: [1])))
        net.command(3, .put(RequestID(2), owner.record(key: key, valueID: 2, sequence: 1, ttl: 600, payload: [2])))
        net.command(4, .put(RequestID(3), net.nodes[4].identity.record(key: key, valueID: 1, sequence: 1, ttl: 600, payload: [3])))
        net.run(for: .seconds(5))
        net.command(3, .put(RequestID(4), owner.record(key: key, valueID: 2, sequence: 2, ttl: 600, payload: [22])))
        net.run(for: .seconds(5))
        net.command(17, .get(RequestID(5), key))
        net.run(for: .seconds(5))
        guard case .get(let records, _) = net.outcome(RequestID(5)) else { Issue.record("no get outcome"); return }
        let expected: [RecordSlot: [UInt8]] = [
            RecordSlot(owner: owner.id, valueID: 1): [1], RecordSlot(owner: owner.id, valueID: 2): [22],
            RecordSlot(owner: net.nodes[4].id, valueID: 1): [3],
        ]
        #expect(Dictionary(uniqueKeysWithValues: records.map { ($0.slot, $0.payload) }) == expected)
        #expect(records.map(\.slot) == records.map(\.slot).sorted())
    }

    @Test func subscribersAreToldOfEachSlotsChangesOnce() {
        var net = TestNetwork(count: 25)
        net.form()
        let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "_ipp._tcp")
        net.command(9, .subscribe(RequestID(1), key))
        net.run(for: .seconds(5))
        let owner = net.nodes[5].identity
        let a1 = owner.record(key: key, valueID: 1, sequence: 1, ttl: 600, payload: [1])
        let b1 = owner.record(key: key, valueID: 2, sequence: 1, ttl: 600, payload: [2])
        net.command(5, .put(RequestID(2), a1))
        net.command(5, .put(RequestID(3), b1))
        net.run(for: .seconds(5))
        let a2 = owner.record(key: key, valueID: 1, sequence: 2, ttl: 600, payload: [11])
        let bGone = owner.tombstone(for: b1)
        net.command(5, .put(RequestID(4), a2))
        net.command(5, .put(RequestID(5), bGone))
        net.run(for: .seconds(5))
        let changes = net.notifications.filter { $0.node == 9 }.map(\.notification.change)
        #expect(changes.filter { if case .new = $0 { true } else { false } }.count == 2)
        #expect(Set(changes) == [.new(a1), .new(b1), .changed(a2), .deleted(bGone)])
        #expect(changes.count == 4, "each change once, although four holders push it")
    }

    @Test func theOwnerRepublishesEverySlotOfAKey() {
        var net = TestNetwork(count: 10)
        net.form()
        let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "z")
        let owner = net.nodes[3].identity
        for valueID in UInt64(1)...3 {
            net.command(3, .put(RequestID(valueID), owner.record(key: key, valueID: valueID, sequence: 1, ttl: 60, payload: [UInt8(valueID)])))
        }
        net.command(3, .put(RequestID(9), owner.tombstone(for: owner.record(key: key, valueID: 2, sequence: 1, ttl: 60, payload: [2]))))
        net.run(for: .seconds(600))
        net.command(8, .get(RequestID(10), key))
        net.run(for: .seconds(5))
        guard case .get(let records, _) = net.outcome(RequestID(10)) else { Issue.record("no get outcome"); return }
        #expect(records.map(\.valueID) == [1, 3], "slots 1 and 3 live ten lifetimes later; slot 2 stays deleted")
    }
}
