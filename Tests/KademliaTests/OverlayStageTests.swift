import Kademlia
import Primitives
import Testing

/// The overlay's stages on virtual time: direct exchange below the structure threshold,
/// the DHT above it, the switch between them, and merging (overlays formed apart, and a
/// healed partition).
@Suite struct OverlayStageTests {
    func key(_ name: String) -> RecordKey { RecordKey.make(network: Fixtures.network, namespace: "type", name: name) }

    /// Every node puts one record under its own key; returns them by node.
    func putOneRecordEach(_ net: inout TestNetwork, _ range: Range<Int>, request base: UInt64 = 100) -> [Int: Record] {
        var records: [Int: Record] = [:]
        for i in range {
            let record = net.nodes[i].identity.record(key: key("_svc.\(i)"), sequence: 1, ttl: 3_600, payload: [UInt8(i)])
            records[i] = record
            net.command(i, .put(RequestID(base + UInt64(i)), record))
        }
        net.run(for: .seconds(5))
        return records
    }

    /// Runs a get of `key` at `reader` and returns what it found.
    func get(_ net: inout TestNetwork, _ reader: Int, _ key: RecordKey, request: UInt64) -> [Record]? {
        net.command(reader, .get(RequestID(request), key))
        net.run(for: .seconds(3))
        guard case .get(let records, _) = net.outcome(RequestID(request)) else { return nil }
        return records
    }

    // MARK: direct exchange

    @Test func belowTheThresholdEveryPutReachesEveryMemberAndReadsAreLocal() {
        var net = TestNetwork(count: 8) { $0.structureThreshold = 16 }
        net.form()
        for node in net.nodes {
            #expect(node.stage == .interconnection)
            #expect(node.mesh.count == 7, "everyone knows everyone")
        }
        let subscribe = RequestID(1)
        net.command(5, .subscribe(subscribe, key("_ipp._tcp")))
        net.run(for: .seconds(1))
        #expect(net.outcome(subscribe) == .subscribed(holders: 8), "every member feeds a local subscription")

        let record = net.nodes[3].identity.record(key: key("_ipp._tcp"), sequence: 1, ttl: 600, payload: [3])
        net.command(3, .put(RequestID(2), record))
        net.run(for: .seconds(1))
        guard case .put(let acks, let attempted, _, _) = net.outcome(RequestID(2)) else { Issue.record("no put outcome"); return }
        #expect(acks == 8 && attempted == 8, "every member and itself")
        #expect(net.nodes.allSatisfy { $0.store.valueCount == 1 }, "every member holds every value")
        #expect(net.notifications.map(\.notification.change) == [.new(record)])

        net.command(6, .get(RequestID(3), key("_ipp._tcp")))
        guard case .get(let got, let report) = net.outcome(RequestID(3)) else { Issue.record("a get is answered at once, from the local copy"); return }
        #expect(got == [record] && report.queries == 0)
        #expect(net.nodes.allSatisfy { $0.counters.lookups.isEmpty }, "no iterative lookups at all")
    }

    @Test func aLateMemberReceivesEveryRecordPutBeforeItCame() {
        var net = TestNetwork(count: 6) { $0.structureThreshold = 16 }
        net.form(0..<5)
        let records = putOneRecordEach(&net, 0..<5)
        net.command(5, .bootstrap(RequestID(9), [TestNetwork.endpoint(2)]))
        net.run(for: .seconds(2))
        #expect(net.nodes[5].mesh.count == 5)
        for (i, record) in records {
            #expect(net.nodes[5].store.copies(for: record.key, now: net.now).map(\.record) == [record], "record of node \(i)")
        }
    }

    // MARK: structure

    @Test func atTheThresholdTheWholeMeshTurnsToStructureAndStaysThere() {
        var net = TestNetwork(count: 12) { $0.structureThreshold = 6 }
        net.form(0..<3)
        #expect(net.nodes[0..<3].allSatisfy { $0.stage == .interconnection })
        let early = putOneRecordEach(&net, 0..<3)
        for i in 3..<12 {
            net.command(i, .bootstrap(RequestID(0), [TestNetwork.endpoint(0)]))
            net.run(for: .seconds(2))
        }
        net.run(for: .seconds(30))
        for (i, node) in net.nodes.enumerated() {
            #expect(node.stage == .structure, "node \(i)")
            #expect(node.mesh.isEmpty)
        }
        #expect(net.nodes[0].counters.stageTransitions["interconnection->structure"] == 1)
        // Records put in direct exchange were moved into the DHT.
        for (i, record) in early {
            #expect(get(&net, 11 - i, record.key, request: 200 + UInt64(i)) == [record])
        }
        #expect(net.nodes[9...11].allSatisfy { $0.counters.lookups["get"] == 1 }, "gets are lookups now")
        // Losing most of the overlay does not switch back while anyone is known.
        for i in 4..<12 { net.silenced.insert(i) }
        net.run(for: .minutes(3))
        #expect(net.nodes[0..<4].allSatisfy { $0.stage == .structure })
    }

    // MARK: merging

    @Test func twoOverlaysFormedApartMergeThroughOneLinkAndLoseNoRecord() {
        var net = TestNetwork(count: 24) { $0.structureThreshold = 4 }
        for i in 0..<24 { net.groups[i] = i < 12 ? 0 : 1 }
        net.form(0..<12)
        net.form(12..<24)
        let records = putOneRecordEach(&net, 0..<24)
        let a = net.nodes[0].overlay, b = net.nodes[12].overlay
        #expect(a != nil && b != nil && a != b)
        #expect(net.nodes[0..<12].allSatisfy { $0.overlay == a } && net.nodes[12..<24].allSatisfy { $0.overlay == b })

        net.groups = [:]
        net.command(17, .bootstrap(RequestID(1), [TestNetwork.endpoint(4)]))
        net.run(for: .seconds(50))  // merge windows (30 s) included
        let survivor = min(a!, b!)
        for (i, node) in net.nodes.enumerated() {
            #expect(node.overlay == survivor, "node \(i) is in the surviving overlay")
            #expect(node.stage == .structure, "and done merging")
            #expect(node.counters.stageTransitions["structure->merging", default: 0] >= 1, "node \(i) took part")
        }
        var request: UInt64 = 1_000
        for (owner, record) in records.sorted(by: { $0.key < $1.key }) {
            for reader in [owner < 12 ? 20 : 3, owner < 12 ? 13 : 9] {
                request += 1
                #expect(get(&net, reader, record.key, request: request) == [record], "\(owner)'s record from \(reader)")
            }
        }
    }

    @Test func twoMeshesMergeIntoOneMeshWhereEveryoneHoldsEverything() {
        var net = TestNetwork(count: 8) { $0.structureThreshold = 16 }
        for i in 0..<8 { net.groups[i] = i < 4 ? 0 : 1 }
        net.form(0..<4)
        net.form(4..<8)
        _ = putOneRecordEach(&net, 0..<8)
        #expect(net.nodes[0].overlay != net.nodes[4].overlay)
        net.groups = [:]
        net.command(6, .bootstrap(RequestID(1), [TestNetwork.endpoint(1)]))
        net.run(for: .seconds(50))  // merge windows (30 s) included
        for (i, node) in net.nodes.enumerated() {
            #expect(node.stage == .interconnection, "node \(i)")
            #expect(node.mesh.count == 7, "node \(i) knows every member")
            #expect(node.store.valueCount == 8, "node \(i) holds every record")
            #expect(node.overlay == net.nodes[0].overlay)
        }
    }

    @Test func aHealedPartitionMergesTheHalvesAndSubscribersCatchUp() {
        var net = TestNetwork(count: 20) { $0.structureThreshold = 4 }
        net.form()
        let watched = key("_printer._tcp")
        net.command(15, .subscribe(RequestID(1), watched))
        let owner = net.nodes[2].identity
        let v1 = owner.record(key: watched, sequence: 1, ttl: 3_600, payload: [1])
        net.command(2, .put(RequestID(2), v1))
        net.run(for: .seconds(5))
        #expect(net.notifications.filter { $0.node == 15 }.map(\.notification.change) == [.new(v1)])

        // Apart for a minute, long enough for each half to drop the other; the owner changes its value meanwhile.
        for i in 0..<20 { net.groups[i] = i < 10 ? 0 : 1 }
        net.run(for: .seconds(20))
        let v2 = owner.record(key: watched, sequence: 2, ttl: 3_600, payload: [2])
        net.command(2, .put(RequestID(3), v2))
        net.run(for: .seconds(40))
        #expect(get(&net, 18, watched, request: 4) != [v2], "the other half cannot see the change")

        net.groups = [:]
        net.run(for: .seconds(30))
        #expect(net.notifications.filter { $0.node == 15 }.map(\.notification.change).last == .changed(v2))
        #expect(get(&net, 18, watched, request: 5) == [v2])
        #expect(net.nodes.reduce(0) { $0 + $1.counters.merges["healed", default: 0] } >= 1)
        #expect(Set(net.nodes.map(\.overlay)).count == 1)
    }

    @Test func stageChangesAreEffectsAndCounted() {
        var net = TestNetwork(count: 3) { $0.structureThreshold = 3 }
        net.form()
        let stages = net.stages.filter { $0.node == 0 }.map(\.stage)
        #expect(stages.first == .interconnection)
        #expect(stages.contains(.structure))
        #expect(net.nodes[0].counters.stageTransitions["bootstrapping->interconnection"] == 1)
    }
}
