import Kademlia
import Primitives
import Logging
import Synchronization

/// Carries a `RendezvousClient`'s actions out against a real engine (`ClientEngine`): it
/// holds the client under a lock, the subscribers' streams, the sequence store and the
/// `Pause` of the reconnect loop, signs writes, and feeds the engine's answers back. It
/// decides nothing; the client does. `ClientEngine`'s default implementations are its
/// callers, so `put`, `remove`, `subscribe` and `stayConnected` exist once for both engines.
///
/// Time: the client's `Instant`s are this shell's monotonic time since it was made.
/// Locks: the shell never calls its engine while holding its own lock, so an engine may call
/// `deliver` under its own (OpenDHT does, to keep a key's changes in order).
public final class ClientShell: Sendable {
    struct Subscriber {
        var generation: Int
        var continuation: AsyncStream<RendezvousChange>.Continuation
    }

    struct State {
        var client: RendezvousClient
        var subscribers: [RecordKey: Subscriber] = [:]
        /// The engine stopped: writes fail and subscriptions end at once.
        var closed = false
    }

    /// Signs our writes.
    public let identity: Identity
    /// The lifetime our records carry, in seconds.
    public let ttl: UInt32
    private let sequenceStore: SequenceStore
    private let logger: Logger
    private let origin = ContinuousClock.now
    private let state: Mutex<State>
    /// The wait between rounds of `stayConnected`; `join` and `addSeeds` cut it short.
    private let pause = Pause()

    /// - Parameters:
    ///   - ttl: the lifetime our records carry, in seconds.
    ///   - sequenceStore: where the sequence counter survives restarts (loaded here).
    ///   - wallClockMilliseconds: now, in milliseconds since 1970 (the sequence floor).
    public init(identity: Identity, ttl: UInt32, seeds: [Endpoint], sequenceStore: SequenceStore = .none,
                wallClockMilliseconds: UInt64, retryInterval: Duration, replacement: RendezvousClient.Replacement,
                logger: Logger) {
        self.identity = identity
        self.ttl = ttl
        self.sequenceStore = sequenceStore
        self.logger = logger
        let configuration = RendezvousClient.Configuration(retryInterval: Interval(retryInterval), replacement: replacement)
        state = Mutex(State(client: RendezvousClient(seeds: seeds, persistedSequence: sequenceStore.load(),
                                                     wallClockMilliseconds: wallClockMilliseconds,
                                                     configuration: configuration)))
    }

    /// A copy of the client as it is now, for stats and tests.
    public var snapshot: RendezvousClient { state.withLock { $0.client } }

    /// Whether `close()` was called.
    public var isClosed: Bool { state.withLock { $0.closed } }

    // MARK: what the gateway asks (through ClientEngine)

    public func join() {
        update { state, now in state.client.join(now: now) }
        pause.wake()
    }

    public func leave() { update { state, _ in state.client.leave() } }

    public func addSeeds(_ endpoints: [Endpoint]) {
        update { state, now in state.client.addSeeds(endpoints, now: now) }
        pause.wake()
    }

    public func put(key: RecordKey, valueID: UInt64, payload: [UInt8], via engine: some ClientEngine) async throws(RendezvousError) {
        let actions = try writing { $0.put(key: key, valueID: valueID, payload: payload) }
        if let error = await perform(actions, via: engine) { throw error }
    }

    public func remove(key: RecordKey, valueID: UInt64, via engine: some ClientEngine) async throws(RendezvousError) {
        let actions = try writing { $0.remove(key: key, valueID: valueID) }
        if let error = await perform(actions, via: engine) { throw error }
    }

    public func subscribe(key: RecordKey, via engine: some ClientEngine) async -> AsyncStream<RendezvousChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: RendezvousChange.self)
        let subscribed = state.withLock { state -> (actions: [RendezvousClient.Action], previous: Subscriber?)? in
            guard !state.closed else { return nil }
            let actions = state.client.subscribe(key)
            let subscriber = Subscriber(generation: state.client.subscriptions[key]!.generation, continuation: continuation)
            return (actions, state.subscribers.updateValue(subscriber, forKey: key))
        }
        guard let subscribed else {
            continuation.finish()
            return stream
        }
        subscribed.previous?.continuation.finish()
        await perform(subscribed.actions, via: engine)
        return stream
    }

    public func unsubscribe(key: RecordKey, via engine: some ClientEngine) async {
        let (actions, subscriber) = state.withLock { state in
            (state.client.unsubscribe(key), state.subscribers.removeValue(forKey: key))
        }
        subscriber?.continuation.finish()
        await perform(actions, via: engine)
    }

    // MARK: what the engine tells

    /// A change for the subscriber of its key; with a `generation`, only if that
    /// subscription is still the key's current one.
    public func deliver(_ change: RendezvousChange, generation: Int? = nil) {
        state.withLock { state in
            guard let subscriber = state.subscribers[change.key],
                  generation.map({ $0 == subscriber.generation }) ?? true else { return }
            subscriber.continuation.yield(change)
        }
    }

    /// The engine stopped: every subscription ends, and later writes throw `.shutDown`.
    public func close() {
        let subscribers = state.withLock { state in
            state.closed = true
            defer { state.subscribers = [:] }
            return state.subscribers.values
        }
        for subscriber in subscribers { subscriber.continuation.finish() }
    }

    // MARK: the reconnect loop

    /// While joined: a round every retry interval, or at once after `join` or new seeds;
    /// see `RendezvousClient` for what a round decides. `engine.maintain()` after each
    /// round, joined or not. Runs until cancelled.
    public func stayConnected(via engine: some ClientEngine) async {
        while !Task.isCancelled {
            // Nobody to ask while not joined (native: the peer is left alone).
            let peers = state.withLock { $0.client.joined } ? await engine.reachablePeers() : 0
            await perform(update { state, now in state.client.round(now: now, peers: peers) }, via: engine)
            await engine.maintain()
            let (due, interval) = state.withLock { ($0.client.nextRound, $0.client.configuration.retryInterval) }
            await pause.wait(for: Duration(due.map { $0.since(now()) } ?? interval))
        }
    }

    // MARK: carrying actions out

    /// Carries `actions` out in order, feeding the engine's answers back to the client (and
    /// carrying out what they lead to); returns the first write's failure.
    @discardableResult
    private func perform(_ actions: [RendezvousClient.Action], via engine: some ClientEngine) async -> RendezvousError? {
        var failure: RendezvousError?
        for action in actions {
            switch action {
            case .store(let write):
                guard state.withLock({ $0.client.isCurrent(write) }) else { continue }
                do {
                    try await engine.store(write.record(signedBy: identity, ttl: ttl))
                } catch {
                    failure = failure ?? error
                }
            case .bootstrap(let seeds):
                let reached = await engine.bootstrap(seeds)
                await perform(update { state, now in state.client.bootstrapped(reached: reached, now: now) }, via: engine)
            case .joinThrough(let seeds):
                // A seed given while connected may lead into another overlay (two groups of
                // islands formed apart): the engine joins through it and merges.
                let reached = await engine.joinThrough(seeds)
                logger.info("joined through new seeds", metadata: [
                    "seeds": "\(seeds.map(\.description).joined(separator: ","))", "peers": "\(reached)",
                ])
                await perform(update { state, now in state.client.bootstrapped(reached: reached, now: now) }, via: engine)
            case .place(let key, let generation):
                guard state.withLock({ $0.client.isCurrent(key, generation: generation) }) else { continue }
                let held = await engine.place(key, generation: generation)
                update { state, _ in state.client.placed(key, generation: generation, held) }
            case .cancel(let key):
                await engine.cancel(key)
            case .connected(let peers):
                logger.info("joined the rendezvous", metadata: ["peers": "\(peers)"])
            }
        }
        return failure
    }

    /// A write (`put`, `remove`) by the client, refused once the engine stopped.
    private func writing(_ body: (inout RendezvousClient) -> [RendezvousClient.Action]) throws(RendezvousError) -> [RendezvousClient.Action] {
        let actions = update { state, _ in state.closed ? nil : body(&state.client) }
        guard let actions else { throw .shutDown }
        return actions
    }

    /// Runs `body` on the state at `now` and saves the sequence counter if it moved, under
    /// the lock so that saved values never go backwards.
    @discardableResult
    private func update<T>(_ body: (inout State, Instant) -> T) -> T {
        state.withLock { state in
            let before = state.client.sequence
            let result = body(&state, now())
            if state.client.sequence != before { sequenceStore.save(state.client.sequence) }
            return result
        }
    }

    private func now() -> Instant { Instant(elapsed: ContinuousClock.now - origin) }
}

