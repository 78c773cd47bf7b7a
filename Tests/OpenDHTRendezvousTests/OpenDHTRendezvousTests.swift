import Foundation
import Kademlia
import OpenDHTRendezvous
import Primitives
import Rendezvous
import Synchronization
import Testing

/// The OpenDHT engine over real UDP on 127.0.0.1: several OpenDHT nodes in this process,
/// each on its own port, joined through the first. Every wait is a poll with a deadline.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct OpenDHTRendezvousTests {
    static let network = NetworkID(name: "opendht-rendezvous-test")

    func makeNode(seeds: [Endpoint], network: NetworkID = Self.network, networkKey: NetworkKey? = nil,
                  ipv6: Bool = true) throws -> OpenDHTRendezvous {
        try OpenDHTRendezvous(identity: Identity(), network: network, port: 0, seeds: seeds, wallClockMilliseconds: 1_000,
                              networkKey: networkKey, retryInterval: .milliseconds(200), ipv6: ipv6)
    }

    /// Runs `body` with `count` joined engines, the first being everybody's seed.
    func withNodes(_ count: Int, _ body: ([OpenDHTRendezvous]) async throws -> Void) async throws {
        let first = try makeNode(seeds: [])
        let seed = Endpoint(ipv4: 127, 0, 0, 1, port: first.node.port)
        var engines = [first]
        for _ in 1..<count { engines.append(try makeNode(seeds: [seed])) }
        try await running(engines, body)
    }

    /// Runs `engines` and joins them, then `body` once every one knows another node.
    func running(_ engines: [OpenDHTRendezvous], _ body: ([OpenDHTRendezvous]) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for engine in engines { group.addTask { await engine.run() } }
            for engine in engines { await engine.join() }
            defer { group.cancelAll() }
            _ = try await poll("every node knows another", timeout: .seconds(30)) { () -> Bool? in
                for engine in engines where await engine.stats().peers == 0 { return nil }
                return true
            }
            try await body(engines)
        }
    }

    func poll<T>(_ what: String, timeout: Duration = .seconds(20), _ probe: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try await probe() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out: \(what)")
        throw CancellationError()
    }

    /// The next change on `iterator`, or nil after `timeout`.
    func next(_ changes: AsyncStream<RendezvousChange>, timeout: Duration = .seconds(20)) async -> RendezvousChange? {
        await withTaskGroup(of: RendezvousChange?.self) { group in
            group.addTask {
                var iterator = changes.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    @Test func putIsSeenBySubscribersAndGetsReplacementWinsAndRemovalReachesSubscribers() async throws {
        try await withNodes(4) { engines in
            let key = RecordKey.make(network: Self.network, namespace: "type", name: "_ipp._tcp")
            let changes = await engines[1].subscribe(key: key)
            try await engines[0].put(key: key, valueID: 7, payload: Array("printer".utf8))
            guard case .upserted(let value)? = await next(changes) else { Issue.record("no upsert"); return }
            #expect(value.payload == Array("printer".utf8) && value.valueID == 7)
            #expect(value.owner == engines[0].identity.id)

            let found = try await poll("the value from another node's get") {
                let values = try await engines[3].get(key: key)
                return values.isEmpty ? nil : values
            }
            #expect(found.map(\.payload) == [Array("printer".utf8)])

            // A replacement is a new OpenDHT value; readers see only the newest.
            try await engines[0].put(key: key, valueID: 7, payload: Array("printer v2".utf8))
            // The replacement arrives (a copy of the first value heard again from another
            // holder may come before it: upserts are idempotent for the gateway).
            var replacement: RendezvousValue?
            while replacement == nil, let change = await next(changes) {
                if case .upserted(let upserted) = change, upserted.payload == Array("printer v2".utf8) { replacement = upserted }
            }
            guard let newer = replacement else { Issue.record("no replacement"); return }
            #expect(newer.sequence > value.sequence)
            let afterReplace = try await poll("the replacement from a get") {
                let values = try await engines[2].get(key: key)
                return values.map(\.payload) == [Array("printer v2".utf8)] ? values : nil
            }
            #expect(afterReplace.count == 1, "one slot, one value, although two copies are stored")

            try await engines[0].remove(key: key, valueID: 7)
            guard case .removed(let removedKey, let slot)? = await next(changes) else { Issue.record("no removal"); return }
            #expect(removedKey == key && slot == ValueSlot(owner: engines[0].identity.id, valueID: 7))
            _ = try await poll("the removal from a get") {
                try await engines[3].get(key: key).isEmpty ? true : nil
            }
        }
    }

    @Test func aSubscriptionStartsWithTheValuesAlreadyThereFromEveryOwner() async throws {
        try await withNodes(3) { engines in
            let key = RecordKey.make(network: Self.network, namespace: "type", name: "_http._tcp")
            try await engines[0].put(key: key, valueID: 1, payload: [1])
            try await engines[1].put(key: key, valueID: 1, payload: [2])
            let changes = await engines[2].subscribe(key: key)
            var owners: Set<NodeID> = []
            while owners.count < 2, let change = await next(changes) {
                if case .upserted(let value) = change { owners.insert(value.owner) }
            }
            #expect(owners == [engines[0].identity.id, engines[1].identity.id])
            let stats = await engines[2].stats()
            #expect(stats.engine == "opendht" && stats.subscriptions == 1 && stats.stage == .structure)
            await engines[2].unsubscribe(key: key)
            #expect(await engines[2].stats().subscriptions == 0)
        }
    }

    @Test func aNodeOfAnotherNetworkNameDoesNotJoin() async throws {
        let first = try makeNode(seeds: [])
        let stranger = try makeNode(seeds: [Endpoint(ipv4: 127, 0, 0, 1, port: first.node.port)],
                                    network: NetworkID(name: "another-network"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await first.run() }
            group.addTask { await stranger.run() }
            await first.join()
            await stranger.join()
            // Time enough for several bootstrap rounds (every 200 ms) to have answered.
            try await Task.sleep(for: .seconds(3))
            #expect(await stranger.stats().peers == 0)
            #expect(await first.stats().peers == 0)
            group.cancelAll()
        }
    }

    /// Admission on OpenDHT: a writer without the network key (or with another) shares the
    /// OpenDHT network, and OpenDHT holds its values, but a gateway with the key takes none
    /// of its records, and counts each by reason.
    @Test func recordsFromWritersWithoutTheNetworkKeyAreNotTaken() async throws {
        let secret = Array("a network secret of 32 bytes....".utf8)
        let key = try #require(NetworkKey(secret: secret, network: Self.network))
        let other = try #require(NetworkKey(secret: Array("another secret of the same size.".utf8), network: Self.network))
        let first = try makeNode(seeds: [], networkKey: key)
        let seed = [Endpoint(ipv4: 127, 0, 0, 1, port: first.node.port)]
        let reader = try makeNode(seeds: seed, networkKey: key)
        let keyless = try makeNode(seeds: seed)
        let wrongKey = try makeNode(seeds: seed, networkKey: other)
        try await running([first, reader, keyless, wrongKey]) { _ in
            let recordKey = RecordKey.make(network: Self.network, namespace: "type", name: "_ipp._tcp")
            try await keyless.put(key: recordKey, valueID: 1, payload: Array("intruder".utf8))
            try await wrongKey.put(key: recordKey, valueID: 1, payload: Array("impostor".utf8))
            try await first.put(key: recordKey, valueID: 1, payload: Array("printer".utf8))
            let values = try await poll("the member's value, and both others refused") { () -> [RendezvousValue]? in
                let values = try await reader.get(key: recordKey)
                let refused = reader.rejections
                guard !values.isEmpty, refused["malformed_missing_tag"] ?? 0 > 0, refused["malformed_bad_tag"] ?? 0 > 0 else { return nil }
                return values
            }
            #expect(values.map(\.owner) == [first.identity.id], "\(values)")
            #expect(values.map(\.payload) == [Array("printer".utf8)])
            // The keyless writer, reading with no key, cannot take the members' records either.
            let seenByKeyless = try await keyless.get(key: recordKey)
            #expect(seenByKeyless.map(\.owner) == [keyless.identity.id])
        }
    }

    /// Two meshes formed apart, each with a value and a subscriber on one key; then one node
    /// is given a seed in the other mesh (a reload's `addSeeds`): every subscriber hears
    /// both values.
    @Test func twoMeshesFormedApartMergeWhenOneIsGivenASeed() async throws {
        let a0 = try makeNode(seeds: [])
        let a1 = try makeNode(seeds: [Endpoint(ipv4: 127, 0, 0, 1, port: a0.node.port)])
        let b0 = try makeNode(seeds: [])
        let b1 = try makeNode(seeds: [Endpoint(ipv4: 127, 0, 0, 1, port: b0.node.port)])
        try await running([a0, a1, b0, b1]) { engines in
            let key = RecordKey.make(network: Self.network, namespace: "type", name: "_ipp._tcp")
            var heard: [Owners] = []
            for engine in [a1, b1] {
                let owners = Owners()
                heard.append(owners)
                let changes = await engine.subscribe(key: key)
                // Ends with the stream, when the engine stops.
                Task {
                    for await change in changes { if case .upserted(let value) = change { owners.insert(value.owner) } }
                }
            }
            try await a0.put(key: key, valueID: 1, payload: Array("printer A".utf8))
            try await b0.put(key: key, valueID: 1, payload: Array("printer B".utf8))
            _ = try await poll("each mesh's subscriber hears its own mesh's value") { () -> Bool? in
                heard[0].contains(a0.identity.id) && heard[1].contains(b0.identity.id) ? true : nil
            }
            #expect(!heard[0].contains(b0.identity.id), "the meshes are apart")
            let linked = ContinuousClock.now
            b1.addSeeds([Endpoint(ipv4: 127, 0, 0, 1, port: a0.node.port)])
            defer {
                print("heard: a1 \(heard[0].all.map { $0 == a0.identity.id ? "A" : "B" }) b1 \(heard[1].all.map { $0 == a0.identity.id ? "A" : "B" }); nodes \(engines.map { $0.node.nodeCounts })")
            }
            _ = try await poll("every subscriber hears both values", timeout: .seconds(30)) { () -> Bool? in
                heard.allSatisfy { $0.all == [a0.identity.id, b0.identity.id] } ? true : nil
            }
            print("OpenDHT merge: both values everywhere \(ContinuousClock.now - linked) after the seed")
        }
    }

    @Test func aLoneNodeStoresWithoutErrorAndReadsNothing() async throws {
        let alone = try makeNode(seeds: [])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await alone.run() }
            await alone.join()
            let key = RecordKey.make(network: Self.network, namespace: "type", name: "_lone._tcp")
            let started = ContinuousClock.now
            try await alone.put(key: key, valueID: 1, payload: [1])
            #expect(ContinuousClock.now - started < .seconds(15), "a put while alone returns")
            #expect(await alone.stats().storedValues == 1)
            group.cancelAll()
        }
    }

    /// A `dhtnode` started as an operator would (service mode, our network id) is the only
    /// seed two engines are given: they meet through it and exchange values.
    @Test func aHandStartedDhtnodeServesAsTheBootstrapNode() async throws {
        let port = UInt16.random(in: 20_000...40_000)
        let dhtnode = Process()
        dhtnode.executableURL = URL(fileURLWithPath: "/usr/bin/dhtnode")
        dhtnode.arguments = ["-s", "-n", "\(OpenDHTRendezvous.openDHTNetwork(for: Self.network))", "-p", "\(port)"]
        dhtnode.standardInput = FileHandle.nullDevice
        dhtnode.standardOutput = FileHandle.nullDevice
        try dhtnode.run()
        defer {
            // dhtnode in service mode ignores SIGTERM.
            kill(dhtnode.processIdentifier, SIGKILL)
            // Reaped by Foundation's own thread once it exits; waiting here would block a
            // thread of the cooperative pool.
        }
        let seed = Endpoint(ipv4: 127, 0, 0, 1, port: port)
        let engines = [try makeNode(seeds: [seed]), try makeNode(seeds: [seed])]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for engine in engines { group.addTask { await engine.run() } }
            defer { group.cancelAll() }
            for engine in engines { await engine.join() }
            _ = try await poll("both engines know the dhtnode", timeout: .seconds(30)) { () -> Bool? in
                for engine in engines where await engine.stats().peers < 1 { return nil }
                return true
            }
            let key = RecordKey.make(network: Self.network, namespace: "type", name: "_dhtnode._tcp")
            let changes = await engines[1].subscribe(key: key)
            try await engines[0].put(key: key, valueID: 3, payload: Array("through dhtnode".utf8))
            guard case .upserted(let value)? = await next(changes) else { Issue.record("no upsert"); return }
            #expect(value.payload == Array("through dhtnode".utf8) && value.owner == engines[0].identity.id)
        }
        #expect(dhtnode.isRunning, "dhtnode ran throughout")
    }

    /// A leader subscribes and puts as soon as it leads, often before its node knows anyone:
    /// both must reach the leaders that come later.
    @Test func aSubscriptionAndAValueMadeWhileAloneReachNodesThatJoinLater() async throws {
        let first = try makeNode(seeds: [])
        let key = RecordKey.make(network: Self.network, namespace: "directory", name: "islands")
        try await withThrowingTaskGroup(of: Void.self) { group in
            defer { group.cancelAll() }
            group.addTask { await first.run() }
            await first.join()
            let changes = await first.subscribe(key: key)
            try await first.put(key: key, valueID: 1, payload: Array("first".utf8))
            let second = try makeNode(seeds: [Endpoint(ipv4: 127, 0, 0, 1, port: first.node.port)])
            group.addTask { await second.run() }
            await second.join()
            let secondChanges = await second.subscribe(key: key)
            try await second.put(key: key, valueID: 1, payload: Array("second".utf8))
            var heardBySecond: [UInt8]? = nil
            while heardBySecond != Array("first".utf8), let change = await next(secondChanges) {
                if case .upserted(let value) = change { heardBySecond = value.payload }
            }
            #expect(heardBySecond == Array("first".utf8), "the value put while alone reached the later node")
            var heardByFirst: [UInt8]? = nil
            while heardByFirst != Array("second".utf8), let change = await next(changes) {
                if case .upserted(let value) = change { heardByFirst = value.payload }
            }
            #expect(heardByFirst == Array("second".utf8), "the subscription made while alone hears the later node")
        }
    }

    /// IPv4-only nodes (what the benchmark runs, to fit hundreds in one process) meet and
    /// exchange values like the others.
    @Test func ipv4OnlyNodesMeetAndExchangeValues() async throws {
        let first = try makeNode(seeds: [], ipv6: false)
        let second = try makeNode(seeds: [Endpoint(ipv4: 127, 0, 0, 1, port: first.node.port)], ipv6: false)
        try await withThrowingTaskGroup(of: Void.self) { group in
            defer { group.cancelAll() }
            for engine in [first, second] { group.addTask { await engine.run() } }
            for engine in [first, second] { await engine.join() }
            _ = try await poll("the two know each other") { await second.stats().peers > 0 ? true : nil }
            let key = RecordKey.make(network: Self.network, namespace: "type", name: "_v4._tcp")
            let changes = await first.subscribe(key: key)
            try await second.put(key: key, valueID: 1, payload: [4])
            guard case .upserted(let value)? = await next(changes) else { Issue.record("no upsert"); return }
            #expect(value.payload == [4])
        }
    }
}

/// The owners whose values a subscriber heard, filled by the task reading its changes.
final class Owners: Sendable {
    private let owners = Mutex<Set<NodeID>>([])
    func insert(_ owner: NodeID) { owners.withLock { _ = $0.insert(owner) } }
    func contains(_ owner: NodeID) -> Bool { owners.withLock { $0.contains(owner) } }
    var all: Set<NodeID> { owners.withLock { $0 } }
}
