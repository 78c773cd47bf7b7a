import Foundation
import GRDB
import Kademlia
import Primitives

extension StateStore {
    /// More contacts than a full routing table holds (256 buckets × k = 20) is a caller's bug.
    public static let routingCacheLimit = 256 * 20

    /// The contacts saved by the last `saveRoutingCache`, in the order they were given.
    public func routingCache() throws(StateStoreError) -> [Contact] {
        try access {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT node_id, address, port FROM routing_contact ORDER BY position").compactMap { row in
                    let id: Data = row["node_id"]
                    let address: Data = row["address"]
                    let port: Int = row["port"]
                    guard let endpointAddress = Endpoint.Address(bytes: Array(address)), let port = UInt16(exactly: port) else {
                        return nil
                    }
                    return Contact(id: NodeID(bytes: Array(id)), endpoint: Endpoint(address: endpointAddress, port: port))
                }
            }
        }
    }

    /// Replaces the cache with `contacts` (best first: a restart pings them in this order).
    /// A contact id given twice keeps its first position.
    public func saveRoutingCache(_ contacts: [Contact]) throws(StateStoreError) {
        guard contacts.count <= Self.routingCacheLimit else {
            throw .routingCacheTooLarge(count: contacts.count, limit: Self.routingCacheLimit)
        }
        try access {
            try database.write { db in
                try db.execute(sql: "DELETE FROM routing_contact")
                var seen = Set<NodeID>()
                for (position, contact) in contacts.enumerated() where seen.insert(contact.id).inserted {
                    try db.execute(
                        sql: "INSERT INTO routing_contact (position, node_id, address, port) VALUES (?, ?, ?, ?)",
                        arguments: [position, Data(contact.id.bytes), Data(contact.endpoint.address.bytes), Int(contact.endpoint.port)])
                }
            }
        }
    }
}
