import Kademlia
import Primitives

/// A rendezvous engine built on the shared client (`RendezvousClient` in a `ClientShell`):
/// it supplies only what is its own (reaching peers, bootstrapping, storing a signed record,
/// placing a subscription), and gets `join`, `leave`, `put`, `remove`, `subscribe`,
/// `unsubscribe`, `addSeeds` and the reconnect loop from this protocol's extension.
///
/// The requirements are the shell's calls into the engine, not an interface for the gateway,
/// which sees only `Rendezvous`.
public protocol ClientEngine: Rendezvous {
    /// Sequences, published values, subscriptions and seeds, with the loop's pause.
    var client: ClientShell { get }

    /// How many other nodes the engine reaches now (0: alone).
    func reachablePeers() async -> Int
    /// Joins through `seeds` while alone; returns how many peers it reaches afterwards.
    func bootstrap(_ seeds: [Endpoint]) async -> Int
    /// Joins through seeds given while connected (perhaps into another overlay); returns how
    /// many peers it reaches afterwards. By default, a bootstrap.
    func joinThrough(_ seeds: [Endpoint]) async -> Int
    /// Writes a record signed by this node; throws when no peer took it although some were asked.
    func store(_ record: Record) async throws(RendezvousError)
    /// Places (or places again) the subscription `generation` of `key`; its changes go to
    /// `client.deliver`. Returns whether some node other than this one holds it.
    func place(_ key: RecordKey, generation: Int) async -> Bool
    /// Drops the engine's subscription to `key`.
    func cancel(_ key: RecordKey) async
    /// Upkeep after every round of the reconnect loop, joined or not. By default, nothing.
    func maintain() async
}

extension ClientEngine {
    public func joinThrough(_ seeds: [Endpoint]) async -> Int { await bootstrap(seeds) }

    public func maintain() async {}

    // MARK: Rendezvous, once for every engine

    public func join() async { client.join() }

    public func leave() async { client.leave() }

    public func put(key: RecordKey, valueID: UInt64, payload: [UInt8]) async throws(RendezvousError) {
        try await client.put(key: key, valueID: valueID, payload: payload, via: self)
    }

    public func remove(key: RecordKey, valueID: UInt64) async throws(RendezvousError) {
        try await client.remove(key: key, valueID: valueID, via: self)
    }

    public func subscribe(key: RecordKey) async -> AsyncStream<RendezvousChange> {
        await client.subscribe(key: key, via: self)
    }

    public func unsubscribe(key: RecordKey) async { await client.unsubscribe(key: key, via: self) }

    /// More addresses to join through (a leader learnt on a second interface, a reload's
    /// bootstrap list): a round follows at once.
    public func addSeeds(_ endpoints: [Endpoint]) { client.addSeeds(endpoints) }

    /// Keeps a joined node connected (`ClientShell.stayConnected`); runs until cancelled.
    public func stayConnected() async { await client.stayConnected(via: self) }
}
