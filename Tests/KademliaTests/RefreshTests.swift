import Kademlia
import Primitives
import Testing

/// Store replicas and id-only republishing (`Configuration.storeReplicas`, `DHTNode+Refresh`,
/// the subscriber's check of values whose copy ran out).
@Suite struct RefreshTests {
    let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "_ipp._tcp")

    func holders(_ net: TestNetwork, _ record: Record) -> [Int] {
        net.nodes.indices.filter { net.nodes[$0].store.entry(key: record.key, slot: record.slot)?.record == record }
    }

    func sent(_ net: TestNetwork, _ kind: MessageKind, by i: Int? = nil) -> Int {
        net.nodes.indices.filter { i == nil || $0 == i }.reduce(0) { $0 + net.nodes[$1].counters.sent[Int(kind.rawValue)] }
    }

    @Test func aPutStoresOnTheStoreReplicasClosestNodesNotOnAllK() {
        var net = TestNetwork(count: 30)
        net.form()
        let record = net.nodes[3].identity.record(key: key, sequence: 1, ttl: 600, payload: [42])
        net.command(3, .put(RequestID(1), record))
        net.run(for: .seconds(5))
        let closest = net.nodes.indices.sorted { net.nodes[$0].id.distance(to: key.point) < net.nodes[$1].id.distance(to: key.point) }
        #expect(holders(net, record) == Array(closest.prefix(8)).sorted(), "the 8 closest of all 30, the owner among them only if it is one")
    }

    @Test func anUnchangedRecordIsRepublishedByIdOnlyAndNeverPushedToSubscribers() {
        var net = TestNetwork(count: 25)
        net.form()
        net.command(9, .subscribe(RequestID(1), key))
        net.run(for: .seconds(5))
        let record = net.nodes[5].identity.record(key: key, sequence: 1, ttl: 60, payload: [1])
        net.command(5, .put(RequestID(2), record))
        net.run(for: .seconds(5))
        let stores = sent(net, .store, by: 5), notifies = sent(net, .notify)
        #expect(stores == 8, "one store per replica")
        // Ten lifetimes: the owner refreshes at about half of each.
        net.run(for: .seconds(600))
        #expect(sent(net, .store, by: 5) == stores, "holders had it: no record sent again")
        #expect(sent(net, .refresh, by: 5) >= 8 * 10, "refreshed by id every ~48 s (0.8 of the lifetime): \(sent(net, .refresh, by: 5))")
        #expect(sent(net, .notify) == notifies, "a refresh changes nothing a subscriber was sent")
        let changes = net.notifications.filter { $0.node == 9 }.map(\.notification.change)
        #expect(changes == [.new(record)], "alive all along: no expiry, no repeat")
        #expect(holders(net, record).count == 8)
    }

    @Test func aHolderAnswersARefreshByWhatItHolds() {
        var node = DHTNode(identity: Fixtures.identity(1), configuration: Configuration(network: Fixtures.network), seed: 1)
        let owner = Fixtures.identity(2)
        let v3 = owner.record(key: key, valueID: 4, sequence: 3, ttl: 60, payload: [3])
        func refresh(_ versions: [ValueVersion], at seconds: Double) -> MessageBody? {
            let m = Message(header: MessageHeader(network: Fixtures.network, sender: owner.id, transaction: 9), body: .refresh(key: key, versions: versions))
            let effects = node.handle(.received(m, from: Fixtures.endpoint(2)), now: Fixtures.at(seconds))
            for case .send(let reply, _) in effects where reply.header.transaction == 9 { return reply.body }
            return nil
        }
        #expect(refresh([ValueVersion(valueID: 4, sequence: 3)], at: 0) == .refreshed(unknown: [4]), "not held: send it")
        let store = Message(header: MessageHeader(network: Fixtures.network, sender: owner.id, transaction: 10), body: .store(RecordCopy(record: v3, remaining: 60)))
        _ = node.handle(.received(store, from: Fixtures.endpoint(2)), now: Fixtures.at(0))
        #expect(refresh([ValueVersion(valueID: 4, sequence: 3), ValueVersion(valueID: 5, sequence: 1)], at: 50) == .refreshed(unknown: [5]))
        #expect(node.store.entry(key: key, slot: v3.slot)?.expiresAt == Fixtures.at(110), "renewed for a full lifetime from the refresh")
        #expect(refresh([ValueVersion(valueID: 4, sequence: 4)], at: 60) == .refreshed(unknown: [4]), "an older copy is not renewed")
        #expect(refresh([ValueVersion(valueID: 4, sequence: 2)], at: 60) == .refreshed(unknown: []), "a newer copy needs nothing")
        #expect(refresh([ValueVersion(valueID: 4, sequence: 3)], at: 111) == .refreshed(unknown: [4]), "expired")
        // A refresh only names the sender's own slots: another owner's value id is not renewed.
        let stranger = Message(
            header: MessageHeader(network: Fixtures.network, sender: Fixtures.identity(3).id, transaction: 11),
            body: .refresh(key: key, versions: [ValueVersion(valueID: 4, sequence: 3)]))
        let answer = node.handle(.received(stranger, from: Fixtures.endpoint(3)), now: Fixtures.at(100))
        #expect(answer.contains { if case .send(let m, _) = $0 { m.body == .refreshed(unknown: [4]) } else { false } })
    }

    @Test func aHolderAnswersAProbeWithTheLifetimeLeftAtThatVersionOnly() {
        var node = DHTNode(identity: Fixtures.identity(1), configuration: Configuration(network: Fixtures.network), seed: 1)
        let owner = Fixtures.identity(2)
        let v3 = owner.record(key: key, valueID: 4, sequence: 3, ttl: 60, payload: [3])
        let store = Message(header: MessageHeader(network: Fixtures.network, sender: owner.id, transaction: 10), body: .store(RecordCopy(record: v3, remaining: 60)))
        _ = node.handle(.received(store, from: Fixtures.endpoint(2)), now: Fixtures.at(0))
        let asked = [SlotVersion(slot: v3.slot, sequence: 3), SlotVersion(slot: v3.slot, sequence: 2), SlotVersion(slot: RecordSlot(owner: owner.id, valueID: 5), sequence: 3)]
        let probe = Message(header: MessageHeader(network: Fixtures.network, sender: Fixtures.identity(3).id, transaction: 11), body: .probe(key: key, slots: asked))
        let effects = node.handle(.received(probe, from: Fixtures.endpoint(3)), now: Fixtures.at(20))
        #expect(effects.contains { if case .send(let m, _) = $0 { m.body == .held(remaining: [40, 0, 0]) } else { false } })
    }

    @Test func aHolderThatMissedThePutGetsTheRecordInFullAtTheNextRefresh() {
        var net = TestNetwork(count: 12)
        net.form()
        let closest = net.nodes.indices.filter { $0 != 5 }.sorted { net.nodes[$0].id.distance(to: key.point) < net.nodes[$1].id.distance(to: key.point) }
        let missed = closest[0]
        let record = net.nodes[5].identity.record(key: key, sequence: 1, ttl: 60, payload: [1])
        net.silenced = [missed]
        net.command(5, .put(RequestID(1), record))
        net.run(for: .seconds(5))
        #expect(!holders(net, record).contains(missed))
        net.silenced = []
        net.run(for: .seconds(60))
        #expect(holders(net, record).contains(missed), "told by id, it answered unknown and got the record")
        #expect(net.nodes[missed].counters.received[Int(MessageKind.refresh.rawValue)] >= 1)
        #expect(net.nodes[missed].counters.sent[Int(MessageKind.refreshed.rawValue)] >= 1)
    }

    @Test func aSubscriberReportsExpiryOnlyOnceNoHolderHasTheValue() {
        var net = TestNetwork(count: 25)
        net.form()
        // The subscriber is the node farthest from the key (no holder: it must ask one).
        let s = net.nodes.indices.filter { $0 != 5 }.max { net.nodes[$0].id.distance(to: key.point) < net.nodes[$1].id.distance(to: key.point) }!
        net.command(s, .subscribe(RequestID(1), key))
        net.run(for: .seconds(5))
        let record = net.nodes[5].identity.record(key: key, sequence: 1, ttl: 60, payload: [1])
        net.command(5, .put(RequestID(2), record))
        net.run(for: .seconds(200))
        #expect(net.notifications.filter { $0.node == s }.map(\.notification.change) == [.new(record)])
        #expect(net.nodes[s].counters.sent[Int(MessageKind.probe.rawValue)] >= 2, "checked with a holder, by version, when its copy ran out")
        // The owner dies: holders let the value lapse, the subscriber's check finds it gone.
        net.silenced = [5]
        net.run(for: .seconds(150))
        let changes = net.notifications.filter { $0.node == s }.map(\.notification.change)
        #expect(changes == [.new(record), .expired(record.slot)])
    }
}
