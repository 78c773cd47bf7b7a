import Foundation
import GRDB
import Primitives

/// Which way a stored record went.
public enum RecordDirection: String, Hashable, Sendable, CaseIterable {
    /// Published by this gateway into the DHT (its own records, `owner` = this node).
    case exported
    /// Taken from the DHT and published on this island's link.
    case imported
}

/// One record as the state store keeps it: where it lives in the DHT, whose it is, its
/// sequence number, and the gateway's opaque payload (the store never looks inside).
public struct StoredRecord: Hashable, Sendable {
    public var key: RecordKey
    public var owner: NodeID
    public var sequence: UInt64
    /// A withdrawal: kept so the next value under this key continues above its sequence number.
    public var isTombstone: Bool
    public var payload: [UInt8]
    public var updatedAt: Date

    public init(key: RecordKey, owner: NodeID, sequence: UInt64, isTombstone: Bool = false, payload: [UInt8], updatedAt: Date = Date()) {
        self.key = key
        self.owner = owner
        self.sequence = sequence
        self.isTombstone = isTombstone
        self.payload = payload
        self.updatedAt = updatedAt
    }
}

extension StateStore {
    /// Every stored record of one direction, ordered by key and owner.
    public func records(_ direction: RecordDirection) throws(StateStoreError) -> [StoredRecord] {
        try access {
            try database.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT key, owner, sequence, tombstone, payload, updated_at FROM record
                    WHERE direction = ? ORDER BY key, owner
                    """, arguments: [direction.rawValue]).map(Self.record)
            }
        }
    }

    public func record(_ direction: RecordDirection, key: RecordKey, owner: NodeID) throws(StateStoreError) -> StoredRecord? {
        try access {
            try database.read { db in
                try Row.fetchOne(db, sql: """
                    SELECT key, owner, sequence, tombstone, payload, updated_at FROM record
                    WHERE direction = ? AND key = ? AND owner = ?
                    """, arguments: [direction.rawValue, Data(key.point.bytes), Data(owner.bytes)]).map(Self.record)
            }
        }
    }

    /// Stores `record`, replacing the one under the same key and owner. Sequence numbers
    /// never go back: a lower one than stored is refused (an equal one replaces, for retries).
    public func save(_ record: StoredRecord, _ direction: RecordDirection) throws(StateStoreError) {
        try access {
            try database.write { db in
                let stored = try Int64.fetchOne(db, sql: "SELECT sequence FROM record WHERE direction = ? AND key = ? AND owner = ?",
                                                arguments: [direction.rawValue, Data(record.key.point.bytes), Data(record.owner.bytes)])
                    .map { UInt64(bitPattern: $0) }
                if let stored, record.sequence < stored { throw StateStoreError.staleSequence(stored: stored, offered: record.sequence) }
                try db.execute(sql: """
                    INSERT OR REPLACE INTO record (direction, key, owner, sequence, tombstone, payload, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [direction.rawValue, Data(record.key.point.bytes), Data(record.owner.bytes),
                                     Int64(bitPattern: record.sequence), record.isTombstone, Data(record.payload), record.updatedAt])
            }
        }
    }

    /// The sequence number for this node's next value under `key`: one above whatever it
    /// stored there last (value or tombstone), or 1.
    public func nextSequence(key: RecordKey, owner: NodeID) throws(StateStoreError) -> UInt64 {
        (try record(.exported, key: key, owner: owner)?.sequence).map { $0 + 1 } ?? 1
    }

    /// Forgets a record altogether (an import that expired, an export that will never return).
    public func deleteRecord(_ direction: RecordDirection, key: RecordKey, owner: NodeID) throws(StateStoreError) {
        try access {
            try database.write { db in
                try db.execute(sql: "DELETE FROM record WHERE direction = ? AND key = ? AND owner = ?",
                               arguments: [direction.rawValue, Data(key.point.bytes), Data(owner.bytes)])
            }
        }
    }

    /// Forgets every record of a direction (a follower that stops importing).
    public func deleteRecords(_ direction: RecordDirection) throws(StateStoreError) {
        try access {
            try database.write { db in
                try db.execute(sql: "DELETE FROM record WHERE direction = ?", arguments: [direction.rawValue])
            }
        }
    }

    private static func record(_ row: Row) -> StoredRecord {
        let key: Data = row["key"]
        let owner: Data = row["owner"]
        let sequence: Int64 = row["sequence"]
        let payload: Data = row["payload"]
        return StoredRecord(key: RecordKey(point: NodeID(bytes: Array(key))), owner: NodeID(bytes: Array(owner)),
                            sequence: UInt64(bitPattern: sequence), isTombstone: row["tombstone"],
                            payload: Array(payload), updatedAt: row["updated_at"])
    }
}
