import Kademlia
import Primitives
import Rendezvous
import Testing

/// The client driven over real `DHTNode`s on virtual time, carried out exactly as
/// `RendezvousClient`'s header says a simulator should: what the gateway would ask goes
/// to the client, its actions become DHT commands, and the commands' outcomes go back.
struct ClientOverDHTNodeTests {
    static let network = NetworkID(name: "client-over-dht")
    let key = RecordKey.make(network: Self.network, namespace: "type", name: "_ipp._tcp")

    @Test func aValueAndASubscriptionMadeWhileAloneReachALeaderThatJoinsLater() {
        let world = VirtualWorld()
        let first = world.addLeader(seeds: [])
        world.join(first)
        world.ask(first) { $0.subscribe(key) }
        world.ask(first) { $0.put(key: key, valueID: 1, payload: Array("first".utf8)) }
        world.run(for: 10)
        #expect(!world.leaders[first].client.connected, "alone and without seeds: nobody to reach")

        let second = world.addLeader(seeds: [world.leaders[first].endpoint])
        world.join(second)
        world.ask(second) { $0.subscribe(key) }
        world.ask(second) { $0.put(key: key, valueID: 1, payload: Array("second".utf8)) }
        world.run(for: 20)

        #expect(world.leaders.allSatisfy { $0.client.connected })
        #expect(world.heard(first).contains(Array("second".utf8)), "the subscription made while alone hears the later leader")
        #expect(world.heard(second).contains(Array("first".utf8)), "the value put while alone reached the later leader")
    }

    @Test func aLeaderWhoseSeedIsNotUpYetKeepsBootstrappingAndConnectsWhenItComes() {
        let world = VirtualWorld()
        let first = world.addLeader(seeds: [VirtualWorld.endpoint(of: 1)])
        world.join(first)
        world.ask(first) { $0.put(key: key, valueID: 1, payload: [1]) }
        world.run(for: 30)
        #expect(!world.leaders[first].client.connected, "the seed does not answer yet")

        let second = world.addLeader(seeds: [])
        world.join(second)
        world.ask(second) { $0.subscribe(key) }
        world.run(for: 30)
        #expect(world.leaders[first].client.connected, "connected once the seed came up")
        #expect(world.latest(second) == [1: [1]])
    }
}

/// Leaders on one virtual network (10 ms between any two), each a `DHTNode` with a
/// `RendezvousClient` in front of it, stepped every 10 ms.
final class VirtualWorld {
    struct Leader {
        var node: DHTNode
        var client: RendezvousClient
        let endpoint: Endpoint
        /// What each command's outcome answers.
        var waiting: [RequestID: Waiting] = [:]
        var heard: [RendezvousChange] = []
    }

    enum Waiting { case bootstrap, place(RecordKey, generation: Int) }

    struct InFlight {
        var arrives: Instant
        var to: Int
        var message: Message
        var from: Endpoint
    }

    private(set) var leaders: [Leader] = []
    private var inFlight: [InFlight] = []
    private var now = Instant.zero
    private var nextRequest: UInt64 = 0
    private let step = Interval.milliseconds(10)

    func addLeader(seeds: [Endpoint]) -> Int {
        let index = leaders.count
        let node = DHTNode(identity: Identity(), configuration: Kademlia.Configuration(network: ClientOverDHTNodeTests.network),
                           seed: UInt64(index + 1))
        let client = RendezvousClient(seeds: seeds, wallClockMilliseconds: 1_000)
        leaders.append(Leader(node: node, client: client, endpoint: Self.endpoint(of: index)))
        return index
    }

    /// Where the leader added `index`th listens (known before it is added).
    static func endpoint(of index: Int) -> Endpoint { Endpoint(ipv4: 10, 0, 0, UInt8(index + 1), port: 4000) }

    /// `GatewayMachine`'s `.joinRendezvous`.
    func join(_ leader: Int) { leaders[leader].client.join(now: now) }

    /// One of the gateway's rendezvous effects (`put`, `remove`, `subscribe`, ...).
    func ask(_ leader: Int, _ call: (inout RendezvousClient) -> [RendezvousClient.Action]) {
        carryOut(call(&leaders[leader].client), at: leader)
    }

    func run(for seconds: Double) {
        let end = now + .seconds(seconds)
        while now < end {
            now = now + step
            let arrived = inFlight.filter { $0.arrives <= now }
            inFlight.removeAll { $0.arrives <= now }
            for message in arrived { handle(.received(message.message, from: message.from), at: message.to) }
            for index in leaders.indices {
                if let due = leaders[index].node.nextDeadline, due <= now { handle(.tick, at: index) }
                if let due = leaders[index].client.nextRound, due <= now {
                    let peers = leaders[index].node.table.count
                    carryOut(leaders[index].client.round(now: now, peers: peers), at: index)
                }
            }
        }
    }

    /// The payloads a leader's subscriber heard upserted.
    func heard(_ leader: Int) -> [[UInt8]] {
        leaders[leader].heard.compactMap { if case .upserted(let value) = $0 { value.payload } else { nil } }
    }

    /// What a leader's subscriber holds now, by value id.
    func latest(_ leader: Int) -> [UInt64: [UInt8]] {
        var values: [UInt64: [UInt8]] = [:]
        for change in leaders[leader].heard {
            switch change {
            case .upserted(let value): values[value.valueID] = value.payload
            case .removed(_, let slot): values[slot.valueID] = nil
            }
        }
        return values
    }

    private func carryOut(_ actions: [RendezvousClient.Action], at index: Int) {
        for action in actions {
            switch action {
            case .store(let write):
                guard leaders[index].client.isCurrent(write) else { continue }
                let record = write.record(signedBy: leaders[index].node.identity, ttl: 300)
                handle(.command(.put(request(), record)), at: index)
            case .bootstrap(let seeds), .joinThrough(let seeds):
                let id = request()
                leaders[index].waiting[id] = .bootstrap
                handle(.command(.bootstrap(id, seeds)), at: index)
            case .place(let key, let generation):
                let id = request()
                leaders[index].waiting[id] = .place(key, generation: generation)
                handle(.command(.subscribe(id, key)), at: index)
            case .cancel(let key):
                handle(.command(.unsubscribe(key)), at: index)
            case .connected:
                break
            }
        }
    }

    private func handle(_ event: Event, at index: Int) {
        for effect in leaders[index].node.handle(event, now: now) {
            switch effect {
            case .send(let message, let endpoint):
                guard let to = leaders.firstIndex(where: { $0.endpoint == endpoint }) else { continue }
                inFlight.append(InFlight(arrives: now + step, to: to, message: message, from: leaders[index].endpoint))
            case .completed(let id, let outcome):
                answer(leaders[index].waiting.removeValue(forKey: id), outcome, at: index)
            case .notification(let notification):
                leaders[index].heard.append(RendezvousChange(notification))
            case .dropped, .stageChanged:
                break
            }
        }
    }

    private func answer(_ waiting: Waiting?, _ outcome: Outcome, at index: Int) {
        switch (waiting, outcome) {
        case (.bootstrap, .bootstrapped(let contacts, _)):
            carryOut(leaders[index].client.bootstrapped(reached: contacts, now: now), at: index)
        case (.place(let key, let generation), .subscribed(let holders)):
            let held = holders > 0 && leaders[index].node.table.count > 0
            leaders[index].client.placed(key, generation: generation, held)
        default:
            break
        }
    }

    private func request() -> RequestID {
        nextRequest += 1
        return RequestID(nextRequest)
    }
}
