import DHTRendezvous
import Kademlia
import Primitives
import Rendezvous
import Testing
import Transport

/// The native engine over real UDP on 127.0.0.1.
@Suite(.timeLimit(.minutes(1)))
struct KademliaRendezvousTests {
    static let network = NetworkID(name: "rendezvous-test")

    func makeNode(seeds: [Endpoint]) -> (DHTPeer, KademliaRendezvous) {
        var configuration = Kademlia.Configuration(network: Self.network)
        configuration.requestTimeout = .milliseconds(300)
        let peer = DHTPeer(identity: Identity(), configuration: configuration)
        let engine = KademliaRendezvous(peer: peer, seeds: seeds, ttl: 60, wallClockMilliseconds: 1_000,
                                        retryInterval: .milliseconds(100))
        return (peer, engine)
    }

    /// Runs `body` with `count` joined nodes, the first being everybody's seed.
    func withNodes(_ count: Int, _ body: ([KademliaRendezvous]) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let (firstPeer, first) = makeNode(seeds: [])
            group.addTask { try await firstPeer.run() }
            group.addTask { await first.run() }
            let seed = try await firstPeer.endpoint
            var engines = [first]
            for _ in 1..<count {
                let (peer, engine) = makeNode(seeds: [seed])
                group.addTask { try await peer.run() }
                group.addTask { await engine.run() }
                engines.append(engine)
            }
            for engine in engines { await engine.join() }
            try await body(engines)
            group.cancelAll()
        }
    }

    func poll<T>(_ what: String, timeout: Duration = .seconds(30), _ probe: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try await probe() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out: \(what)")
        throw CancellationError()
    }

    @Test func statsReportTheOverlayStageAndOneOverlayID() async throws {
        try await withNodes(3) { engines in
            let stats = try await poll("all in one mesh") { () -> [RendezvousStats]? in
                var all: [RendezvousStats] = []
                for engine in engines { all.append(await engine.stats()) }
                return all.allSatisfy { $0.peers == 2 && $0.stage == .interconnection } ? all : nil
            }
            #expect(stats[0].overlayID != nil)
            #expect(Set(stats.map(\.overlayID)).count == 1, "three leaders below the threshold share one overlay")
        }
    }

    @Test func putIsSeenBySubscribersAndGetsAndRemovalReachesSubscribers() async throws {
        try await withNodes(4) { engines in
            _ = try await poll("all joined") {
                var counts: [Int] = []
                for engine in engines { counts.append(await engine.stats().peers) }
                return counts.allSatisfy { $0 > 0 } ? true : nil
            }
            let key = RecordKey.make(network: Self.network, namespace: "type", name: "_ipp._tcp")
            let changes = await engines[1].subscribe(key: key)
            var iterator = changes.makeAsyncIterator()
            try await engines[0].put(key: key, valueID: 7, payload: Array("printer".utf8))
            guard case .upserted(let value)? = await iterator.next() else { Issue.record("no upsert"); return }
            #expect(value.payload == Array("printer".utf8) && value.valueID == 7)
            #expect(value.owner == engines[0].peer.id)
            let found = try await engines[3].get(key: key)
            #expect(found.map(\.payload) == [Array("printer".utf8)])
            try await engines[0].remove(key: key, valueID: 7)
            guard case .removed(_, let slot)? = await iterator.next() else { Issue.record("no removal"); return }
            #expect(slot == RecordSlot(owner: engines[0].peer.id, valueID: 7))
            #expect(try await engines[2].get(key: key).isEmpty)
        }
    }

    @Test func valuePutWhileAloneReachesTheDHTOnceAPeerJoins() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let (lonePeer, lone) = makeNode(seeds: [])
            group.addTask { try await lonePeer.run() }
            group.addTask { await lone.run() }
            await lone.join()
            let key = RecordKey.make(network: Self.network, namespace: "type", name: "_http._tcp")
            try? await lone.put(key: key, valueID: 1, payload: [1, 2, 3]) // nobody to hold it yet
            let (latePeer, late) = makeNode(seeds: [try await lonePeer.endpoint])
            group.addTask { try await latePeer.run() }
            group.addTask { await late.run() }
            await late.join()
            let values = try await poll("value visible from the late node") {
                let values = try await late.get(key: key)
                return values.isEmpty ? nil : values
            }
            #expect(values.first?.payload == [1, 2, 3])
            group.cancelAll()
        }
    }

    @Test func sequenceNumbersStartAboveTheStoredOnesAndTheClock() async throws {
        let saved = SavedSequence()
        let peer = DHTPeer(identity: Identity(), configuration: Kademlia.Configuration(network: Self.network))
        let engine = KademliaRendezvous(peer: peer, seeds: [], sequenceStore: .init(load: { 5_000 }, save: { saved.set($0) }),
                                        wallClockMilliseconds: 1_000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await peer.run() }
            _ = try await peer.endpoint
            try? await engine.put(key: RecordKey.make(network: Self.network, namespace: "t", name: "n"), valueID: 1, payload: [])
            #expect(saved.value == 5_001)
            group.cancelAll()
        }
    }
}

final class SavedSequence: @unchecked Sendable {
    private var stored: UInt64 = 0
    func set(_ value: UInt64) { stored = value }
    var value: UInt64 { stored }
}
