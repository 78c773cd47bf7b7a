import Primitives
import Synchronization

/// An in-memory meeting place for unit tests: every `MemoryRendezvous` on one
/// `MemoryMesh` sees every value at once, and subscribers hear of changes immediately.
/// It models the contract (slots per owner, newest sequence wins, removals as changes),
/// not the timing or failures of a real DHT.
public final class MemoryMesh: Sendable {
    struct State {
        var values: [RecordKey: [ValueSlot: RendezvousValue]] = [:]
        var subscribers: [RecordKey: [Int: AsyncStream<RendezvousChange>.Continuation]] = [:]
        var nextSubscriber = 0
        var partitioned: Set<NodeID> = []
        var members: Set<NodeID> = []
    }

    let state = Mutex(State())

    public init() {}

    /// Cuts a node off: its puts fail and it hears nothing (a leader on an island whose WAN is down).
    public func setPartitioned(_ node: NodeID, _ partitioned: Bool) {
        state.withLock { state in
            if partitioned { state.partitioned.insert(node) } else { state.partitioned.remove(node) }
        }
    }

    /// Every value currently stored, for assertions.
    public var allValues: [RendezvousValue] {
        state.withLock { $0.values.values.flatMap(\.values) }
    }
}

public final class MemoryRendezvous: Rendezvous {
    public let owner: NodeID
    private let mesh: MemoryMesh
    private let sequence = Mutex<UInt64>(0)
    private let mySubscriptions = Mutex<[RecordKey: Int]>([:])

    public init(owner: NodeID, mesh: MemoryMesh) {
        self.owner = owner
        self.mesh = mesh
    }

    public func join() async { mesh.state.withLock { _ = $0.members.insert(owner) } }
    public func leave() async { mesh.state.withLock { _ = $0.members.remove(owner) } }

    public func put(key: RecordKey, valueID: UInt64, payload: [UInt8]) async throws(RendezvousError) {
        let sequence = self.sequence.withLock { value -> UInt64 in value += 1; return value }
        let value = RendezvousValue(key: key, owner: owner, valueID: valueID, sequence: sequence, payload: payload)
        try mesh.state.withLock { state throws(RendezvousError) in
            guard !state.partitioned.contains(owner) else { throw .notStored("partitioned") }
            state.values[key, default: [:]][value.slot] = value
            for (_, continuation) in state.subscribers[key] ?? [:] { continuation.yield(.upserted(value)) }
        }
    }

    public func remove(key: RecordKey, valueID: UInt64) async throws(RendezvousError) {
        let slot = ValueSlot(owner: owner, valueID: valueID)
        try mesh.state.withLock { state throws(RendezvousError) in
            guard !state.partitioned.contains(owner) else { throw .notStored("partitioned") }
            guard state.values[key]?.removeValue(forKey: slot) != nil else { return }
            for (_, continuation) in state.subscribers[key] ?? [:] { continuation.yield(.removed(key, slot)) }
        }
    }

    public func get(key: RecordKey) async throws(RendezvousError) -> [RendezvousValue] {
        mesh.state.withLock { state in (state.values[key] ?? [:]).values.sorted { $0.slot < $1.slot } }
    }

    public func subscribe(key: RecordKey) async -> AsyncStream<RendezvousChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: RendezvousChange.self)
        let id = mesh.state.withLock { state -> Int in
            state.nextSubscriber += 1
            let id = state.nextSubscriber
            state.subscribers[key, default: [:]][id] = continuation
            for value in (state.values[key] ?? [:]).values.sorted(by: { $0.slot < $1.slot }) {
                continuation.yield(.upserted(value))
            }
            return id
        }
        let previous = mySubscriptions.withLock { subscriptions in
            defer { subscriptions[key] = id }
            return subscriptions[key]
        }
        if let previous { finish(key, previous) }
        return stream
    }

    public func unsubscribe(key: RecordKey) async {
        guard let id = mySubscriptions.withLock({ $0.removeValue(forKey: key) }) else { return }
        finish(key, id)
    }

    public func stats() async -> RendezvousStats {
        let (stored, subscriptions) = mesh.state.withLock { state in
            (state.values.values.reduce(0) { $0 + $1.values.filter { $0.owner == owner }.count }, 0)
        }
        let others = mesh.state.withLock { $0.members.contains(owner) ? $0.members.count - 1 : 0 }
        var stats = RendezvousStats(engine: "memory", peers: others, storedValues: stored,
                                    subscriptions: subscriptions + mySubscriptions.withLock { $0.count })
        stats.stage = others > 0 ? .interconnection : .bootstrapping
        return stats
    }

    /// Ends every subscription (a node going away).
    public func shutdown() {
        let ids = mySubscriptions.withLock { subscriptions -> [RecordKey: Int] in
            defer { subscriptions = [:] }
            return subscriptions
        }
        for (key, id) in ids { finish(key, id) }
    }

    private func finish(_ key: RecordKey, _ id: Int) {
        let continuation = mesh.state.withLock { $0.subscribers[key]?.removeValue(forKey: id) }
        continuation?.finish()
    }
}
