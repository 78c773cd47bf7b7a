import DHTRendezvous
import Kademlia
import Primitives
import Rendezvous
import Transport
import Z2ZAPI

/// A rendezvous engine that can show its DHT's insides to `GET /api/v1/dht`. Engines that
/// cannot (OpenDHT, the in-memory one) simply do not conform, and the API says so.
public protocol DHTInspectable: Sendable {
    func inspectDHT() async -> DHTResponse?
}

extension KademliaRendezvous: DHTInspectable {
    public func inspectDHT() async -> DHTResponse? {
        guard let inspection = try? await peer.inspect() else { return nil }
        let (node, now) = inspection
        let stats = await stats()
        func ago(_ instant: Instant) -> Double { instant <= now ? now.since(instant).seconds : 0 }
        let contacts = node.table.buckets.enumerated().flatMap { index, bucket in
            bucket.entries.map {
                DHTResponse.Contact(id: "\($0.contact.id)", endpoint: "\($0.contact.endpoint)", bucket: index,
                                    lastSeenSecondsAgo: ago($0.lastSeen), failures: $0.failures)
            }
        }
        let values = node.store.entries.sorted { $0.key < $1.key }.flatMap { key, slots in
            slots.values.sorted { $0.record.owner < $1.record.owner }.map { entry in
                DHTResponse.StoredValue(
                    key: "\(key.point)", owner: "\(entry.record.owner)", valueID: String(entry.record.valueID, radix: 16),
                    sequence: entry.record.sequence, bytes: entry.record.payload.count, tombstone: entry.record.isTombstone,
                    expiresInSeconds: entry.expiresAt > now ? entry.expiresAt.since(now).seconds : 0)
            }
        }
        let lookups = node.activeLookups.map {
            DHTResponse.Lookup(target: "\($0.target)", purpose: $0.purpose, queries: $0.queries, inFlight: $0.inFlight,
                               candidates: $0.candidates)
        }
        return DHTResponse(engine: stats.engine, available: true, nodeID: "\(node.id)", stage: node.stage.rawValue,
                           overlayID: node.overlay.map { String($0, radix: 16) }, routingTable: contacts, storedValues: values,
                           activeLookups: lookups, subscriptions: stats.subscriptions,
                           rttMilliseconds: node.smoothedRoundTrip.map { $0 * 1000 },
                           bridging: DHTResponse.Bridging(unreachableMembers: node.unreachableMembers, bridgedMembers: node.bridgedMembers,
                                                          forwardedRecords: node.counters.bridgeForwards))
    }
}
