import Kademlia
import Logging
import Primitives
import Rendezvous
import Transport

/// The native rendezvous engine: z2z's own Kademlia DHT (`DHTPeer`) behind the
/// `Rendezvous` interface.
///
/// - Values are signed records under the node's identity, one slot per (key, value id), with a
///   lifetime of `ttl`; the DHT node republishes its own records at `republishFraction` (0.8) of their lifetime.
/// - Sequences, the published table and staying connected are the shared client's
///   (`RendezvousClient`, `ClientEngine`): sequence numbers start above both the last one
///   persisted through `sequenceStore` and the wall clock; joining bootstraps through the
///   configured seeds and the cached routing table and keeps retrying while no peer answers;
///   every subscription made and value put while alone is placed again once peers are there.
///   Leaving stops the retries (the gateway has removed its values before).
/// - Subscriptions are the DHT's: one lease per key, notifications demultiplexed by key. On
///   connecting, only those that reached no holder are placed again: the DHT node renews the
///   others itself.
public final class KademliaRendezvous: ClientEngine {
    public let peer: DHTPeer
    public let client: ClientShell
    private let logger: Logger

    /// - Parameters:
    ///   - seeds: nodes to join through (configured bootstrap addresses, cached contacts).
    ///   - ttl: lifetime of our values in seconds; a gateway that dies silently is forgotten
    ///     by other islands this long after its last republish.
    ///   - wallClockMilliseconds: now, in milliseconds since 1970 (the sequence floor).
    public init(peer: DHTPeer, seeds: [Endpoint], ttl: UInt32 = 300, sequenceStore: SequenceStore = .none,
                wallClockMilliseconds: UInt64, retryInterval: Duration = .seconds(5),
                logger: Logger = Logger(label: "z2z.rendezvous")) {
        self.peer = peer
        self.logger = logger
        client = ClientShell(identity: peer.identity, ttl: ttl, seeds: seeds, sequenceStore: sequenceStore,
                             wallClockMilliseconds: wallClockMilliseconds, retryInterval: retryInterval,
                             replacement: .unplaced, logger: logger)
    }

    /// Serves the engine: hands DHT notifications to subscribers and keeps a joined node
    /// connected. Runs until cancelled (the peer's own `run()` runs beside it).
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await notification in self.peer.notifications { self.client.deliver(RendezvousChange(notification)) }
            }
            group.addTask { await self.stayConnected() }
            await group.waitForAll()
        }
    }

    // MARK: Rendezvous (the rest is ClientEngine's)

    public func get(key: RecordKey) async throws(RendezvousError) -> [RendezvousValue] {
        do {
            return try await peer.get(key).filter { !$0.isTombstone }.map(RendezvousValue.init)
        } catch {
            throw .notStored("get failed: \(error)")
        }
    }

    public func stats() async -> RendezvousStats {
        let snapshot = try? await peer.snapshot()
        let client = self.client.snapshot
        var stats = RendezvousStats(engine: "native", peers: snapshot?.contacts ?? 0, storedValues: client.publishedCount,
                                    subscriptions: client.subscriptions.count)
        stats.stage = snapshot?.stage ?? .bootstrapping
        stats.overlayID = snapshot?.overlay
        if let snapshot {
            var refusals = snapshot.refusals
            for (rejection, count) in snapshot.counters.rejections { refusals[rejection.reason, default: 0] += count }
            refusals.merge(snapshot.counters.limitHits) { $0 + $1 }
            stats.refusals = refusals
        }
        return stats
    }

    // MARK: ClientEngine (the shell's calls)

    public func reachablePeers() async -> Int { (try? await peer.snapshot())?.contacts ?? 0 }

    /// The DHT node sees another overlay's id through the seeds and merges: it republishes
    /// its values and looks its subscriptions up again (Kademlia's DHTNode+Merging).
    public func bootstrap(_ seeds: [Endpoint]) async -> Int { (try? await peer.bootstrap(seeds)) ?? 0 }

    public func store(_ record: Record) async throws(RendezvousError) {
        do {
            let result = try await peer.put(record)
            if result.acks == 0, result.attempted > 0 {
                throw RendezvousError.notStored("no holder accepted it: \(result.rejections.map { "\($0.key.reason)" })")
            }
        } catch let error as RendezvousError {
            throw error
        } catch {
            throw .notStored("\(error)")
        }
    }

    public func place(_ key: RecordKey, generation: Int) async -> Bool {
        do {
            // Alone, the node holds its own subscription and no one else does.
            let alone = await reachablePeers() == 0
            let holders = try await peer.subscribe(key)
            return holders > 0 && !alone
        } catch {
            logger.warning("subscription failed", metadata: ["key": "\(key)", "reason": "\(error)"])
            return false
        }
    }

    public func cancel(_ key: RecordKey) async { try? await peer.unsubscribe(key) }
}
