import Kademlia
import Primitives
import Logging
import Rendezvous
import Synchronization
import Testing

/// The shell carrying the client's actions out against an engine faked in memory, in real
/// time (every wait bounded by a deadline).
@Suite(.timeLimit(.minutes(1)))
struct ClientShellTests {
    static let network = NetworkID(name: "shell-test")
    let key = RecordKey.make(network: Self.network, namespace: "type", name: "_ipp._tcp")

    func poll(_ what: String, _ probe: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if probe() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out: \(what)")
    }

    @Test func aPutThatFoundNobodyIsStoredAgainByTheLoopOnceAPeerAnswers() async throws {
        let engine = FakeEngine(retryInterval: .milliseconds(20))
        await engine.join()
        await #expect(throws: RendezvousError.notStored("alone")) {
            try await engine.put(key: key, valueID: 1, payload: [7])
        }
        engine.peers.withLock { $0 = 1 }
        let loop = Task { await engine.stayConnected() }
        defer { loop.cancel() }
        try await poll("stored again") { engine.stored.withLock { $0.count } == 2 }
        let stored = engine.stored.withLock { $0 }
        #expect(stored.map(\.payload) == [[7], [7]])
        #expect(stored[1].sequence > stored[0].sequence)
        #expect(stored[1].owner == engine.client.identity.id && Ed25519Verifier().check(stored[1]) == nil)
    }

    @Test func everyWriteSavesTheSequenceAndSavedValuesNeverGoBackwards() async throws {
        let saved = Mutex<[UInt64]>([])
        let engine = FakeEngine(peers: 1, sequenceStore: SequenceStore(load: { 5_000 }, save: { value in saved.withLock { $0.append(value) } }))
        try await engine.put(key: key, valueID: 1, payload: [1])
        try await engine.remove(key: key, valueID: 1)
        #expect(saved.withLock { $0 } == [5_001, 5_002])
        #expect(engine.stored.withLock { $0.map(\.isTombstone) } == [false, true])
    }

    @Test func aClosedShellRefusesWritesAndEndsSubscriptions() async throws {
        let engine = FakeEngine(peers: 1)
        let changes = await engine.subscribe(key: key)
        engine.client.close()
        var iterator = changes.makeAsyncIterator()
        #expect(await iterator.next() == nil, "the subscription ended")
        await #expect(throws: RendezvousError.shutDown) { try await engine.put(key: key, valueID: 1, payload: []) }
        var late = await engine.subscribe(key: key).makeAsyncIterator()
        #expect(await late.next() == nil, "a subscription after closing ends at once")
    }

    @Test func joiningWhileTheLoopWaitsStartsARoundAtOnce() async throws {
        let engine = FakeEngine(seeds: [Endpoint(ipv4: 127, 0, 0, 1, port: 9)], retryInterval: .seconds(60))
        let loop = Task { await engine.stayConnected() }
        defer { loop.cancel() }
        // Not joined: the loop's first round does nothing and waits a minute.
        try await Task.sleep(for: .milliseconds(50))
        await engine.join()
        try await poll("a bootstrap within the minute") { engine.bootstraps.withLock { $0 } > 0 }
    }

    @Test func changesReachTheCurrentSubscriberOfTheirKeyOnly() async throws {
        let engine = FakeEngine(peers: 1)
        let first = await engine.subscribe(key: key)
        let second = await engine.subscribe(key: key)
        var ended = first.makeAsyncIterator()
        #expect(await ended.next() == nil, "subscribing again ends the earlier stream")
        let value = RendezvousValue(key: key, owner: engine.client.identity.id, valueID: 1, sequence: 1, payload: [1])
        engine.client.deliver(.upserted(value), generation: 1)
        engine.client.deliver(.upserted(value), generation: 2)
        engine.client.close()
        var changes: [RendezvousChange] = []
        for await change in second { changes.append(change) }
        #expect(changes == [.upserted(value)], "the earlier generation's change was dropped")
    }
}

/// An engine in memory: reaches `peers`, fails stores while alone, holds subscriptions
/// whenever it has a peer.
final class FakeEngine: ClientEngine {
    let client: ClientShell
    let peers: Mutex<Int>
    let stored = Mutex<[Record]>([])
    let bootstraps = Mutex(0)

    init(peers: Int = 0, seeds: [Endpoint] = [], sequenceStore: SequenceStore = .none, retryInterval: Duration = .seconds(5)) {
        self.peers = Mutex(peers)
        client = ClientShell(identity: Identity(), ttl: 60, seeds: seeds, sequenceStore: sequenceStore,
                             wallClockMilliseconds: 1_000, retryInterval: retryInterval, replacement: .unplaced,
                             logger: Logger(label: "z2z.test"))
    }

    func reachablePeers() async -> Int { peers.withLock { $0 } }

    func bootstrap(_ seeds: [Endpoint]) async -> Int {
        bootstraps.withLock { $0 += 1 }
        return peers.withLock { $0 }
    }

    func store(_ record: Record) async throws(RendezvousError) {
        stored.withLock { $0.append(record) }
        if peers.withLock({ $0 }) == 0 { throw .notStored("alone") }
    }

    func place(_ key: RecordKey, generation: Int) async -> Bool { peers.withLock { $0 } > 0 }
    func cancel(_ key: RecordKey) async {}
    func get(key: RecordKey) async throws(RendezvousError) -> [RendezvousValue] { [] }
    func stats() async -> RendezvousStats { RendezvousStats(engine: "fake") }
}
