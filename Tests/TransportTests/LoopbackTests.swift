import Foundation
import Kademlia
import NIOPosix
import Primitives
import Testbed
import Testing
import Transport

/// Real UDP on 127.0.0.1 only; every wait is bounded.
@Suite(.serialized) struct LoopbackTests {
    let network = NetworkID(name: "loopback-test")

    /// `structureThreshold` 2: structured from the first contact (the DHT path); the
    /// default keeps 20 nodes in direct exchange.
    func peer(_ n: UInt8, port: Int = 0, structureThreshold: Int? = nil) -> DHTPeer {
        var configuration = Configuration(network: network)
        // Twenty nodes in one process on two cores: a loaded machine must not turn a slow
        // answer into a missing acknowledgement.
        configuration.requestTimeout = .seconds(3)
        if let structureThreshold { configuration.structureThreshold = structureThreshold }
        return DHTPeer(identity: try! Identity(seed: [UInt8](repeating: n, count: 32)), configuration: configuration, port: port, seed: UInt64(n))
    }

    @Test(arguments: [2, Configuration(network: NetworkID(rawValue: 0)).structureThreshold])
    func twentyNodesFormAnOverlayWhereAnyNodePutsAndAnyOtherGets(structureThreshold: Int) async throws {
        let peers = (1...20).map { peer(UInt8($0), structureThreshold: structureThreshold) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in peers { group.addTask { try await p.run() } }
            defer { group.cancelAll() }
            let seed = try await peers[0].endpoint
            try await within(30, "formation") {
                _ = try await peers[0].bootstrap([])
                for p in peers.dropFirst() { _ = try await p.bootstrap([seed]) }
            }
            // Every node comes to know the other 19 (introductions and lookups finish after
            // the bootstraps return): polled, with a deadline.
            let snapshots = try await within(30, "every node knows the other 19") {
                while true {
                    var snapshots: [PeerSnapshot] = []
                    for p in peers { snapshots.append(try await p.snapshot()) }
                    if snapshots.allSatisfy({ $0.contacts == 19 }) { return snapshots }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            for snapshot in snapshots {
                #expect(snapshot.stage == (structureThreshold <= 20 ? .structure : .interconnection))
            }
            for (writer, reader) in [(3, 15), (0, 19), (12, 4)] {
                let key = RecordKey.make(network: network, namespace: "type", name: "_ipp._tcp.\(writer)")
                let record = peers[writer].identity.record(key: key, sequence: 1, ttl: 600, payload: Array("printer \(writer)".utf8))
                let put = try await within(10, "put") { try await peers[writer].put(record) }
                // Structured: the storeReplicas closest (itself among them when it is one); in
                // direct exchange every member and itself.
                let replicas = Configuration(network: network).storeReplicas
                #expect(put.acks == (structureThreshold <= 20 ? replicas : 19 + 1), "\(put)")
                let got = try await within(10, "get") { try await peers[reader].get(key) }
                #expect(got.map(\.asPut) == [record.asPut])
            }
        }
    }

    /// A value as large as an mDNS message (a service with a huge TXT record) travels alone in
    /// a frame bigger than the packing size, beside small values of the same key.
    @Test func aValueAsLargeAsAnMDNSMessageIsStoredAndGotOverRealUDP() async throws {
        let peers = (1...3).map { peer(UInt8(80 + $0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in peers { group.addTask { try await p.run() } }
            defer { group.cancelAll() }
            let seed = try await peers[0].endpoint
            try await within(20, "formation") {
                _ = try await peers[0].bootstrap([])
                for p in peers.dropFirst() { _ = try await p.bootstrap([seed]) }
            }
            let key = RecordKey.make(network: network, namespace: "type", name: "_ipp._tcp")
            let large = peers[1].identity.record(key: key, valueID: 1, sequence: 1, ttl: 600,
                                                 payload: (0..<Limits.default.maxPayloadBytes).map { UInt8(truncatingIfNeeded: $0) })
            let small = [2, 3].map { peers[1].identity.record(key: key, valueID: $0, sequence: 1, ttl: 600, payload: [UInt8($0)]) }
            for record in [large] + small {
                let put = try await within(10, "put") { try await peers[1].put(record) }
                #expect(put.acks == 3, "every node holds it: \(put)")
            }
            let got = try await within(10, "get") { try await peers[2].get(key) }
            #expect(Set(got.map(\.asPut)) == Set(([large] + small).map(\.asPut)))
        }
    }

    @Test func aKilledNodeRestartedWithItsKeyRejoins() async throws {
        let peers = (1...8).map { peer(UInt8(40 + $0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in peers.dropLast() { group.addTask { try await p.run() } }
            defer { group.cancelAll() }
            let seed = try await peers[0].endpoint
            // The last peer runs in its own task so it can be killed alone.
            let victim = peers[7]
            let victimTask = Task { try await victim.run() }
            try await within(20, "formation") {
                _ = try await peers[0].bootstrap([])
                for p in peers.dropFirst() { _ = try await p.bootstrap([seed]) }
            }
            let key = RecordKey.make(network: network, namespace: "test", name: "survives")
            let record = peers[2].identity.record(key: key, sequence: 1, ttl: 600, payload: [1])
            _ = try await within(10, "put") { try await peers[2].put(record) }

            victimTask.cancel()
            _ = try? await victimTask.value
            // Same key, new socket.
            let reborn = peer(48)
            #expect(reborn.id == victim.id)
            group.addTask { try await reborn.run() }
            let contacts = try await within(10, "rejoin") { try await reborn.bootstrap([seed]) }
            #expect(contacts == 7)
            let got = try await within(10, "get after rejoin") { try await reborn.get(key) }
            #expect(got.map(\.asPut) == [record.asPut])
            let found = try await within(10, "lookup of the reborn node") { try await peers[1].lookup(reborn.id) }
            let rebornEndpoint = try await reborn.endpoint
            #expect(found?.closest.first?.id == reborn.id)
            #expect(found?.closest.first?.endpoint == rebornEndpoint, "others learned its new address")
        }
    }

    @Test func aSubscriberHearsOfAPutAtOnce() async throws {
        let peers = (1...6).map { peer(UInt8(80 + $0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in peers { group.addTask { try await p.run() } }
            defer { group.cancelAll() }
            let seed = try await peers[0].endpoint
            try await within(20, "formation") {
                _ = try await peers[0].bootstrap([])
                for p in peers.dropFirst() { _ = try await p.bootstrap([seed]) }
            }
            let key = RecordKey.make(network: network, namespace: "type", name: "_sip._udp")
            let holders = try await within(10, "subscribe") { try await peers[4].subscribe(key) }
            #expect(holders >= 4)
            let record = peers[1].identity.record(key: key, sequence: 1, ttl: 600, payload: [7])
            let started = ContinuousClock.now
            _ = try await within(10, "put") { try await peers[1].put(record) }
            let first = try await within(5, "notification") { () -> SubscriptionNotification? in
                var it = peers[4].notifications.makeAsyncIterator()
                return await it.next()
            }
            guard case .new(let heard) = first?.change else { Issue.record("\(String(describing: first))"); return }
            #expect(heard.asPut == record.asPut)
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }
}
