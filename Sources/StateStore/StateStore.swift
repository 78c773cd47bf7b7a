import Foundation
import GRDB
import Island
import Kademlia

#if canImport(Glibc)
import Glibc
#endif

/// The gateway's memory across restarts: one SQLite database in the state directory holding
/// the node identity, the island id, a routing cache for a fast rejoin, and the records this
/// gateway exported and imported (so a restarted leader continues its sequence numbers and
/// can withdraw what it published before).
///
/// Opening creates the directory (0700) and the database (0600), migrates the schema, and
/// locks the directory against a second daemon until the store is released.
public final class StateStore: Sendable {
    public static let databaseFileName = "z2z.sqlite"

    public let directory: String
    public var databasePath: String { directory + "/" + Self.databaseFileName }
    let database: DatabaseQueue
    private let lockDescriptor: Int32

    /// Where a damaged database was moved before a new one was made (nil: it opened as it
    /// was). The daemon logs it: the node identity, island id and caches start afresh.
    public let setAside: String?

    public init(directory: String) throws(StateStoreError) {
        self.directory = directory
        try StateDirectory.prepare(directory)
        lockDescriptor = try StateDirectory.lock(directory)
        let path = directory + "/" + Self.databaseFileName
        do {
            do {
                database = try Self.open(path)
                setAside = nil
            } catch let error as DatabaseError where [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode) {
                // A truncated or overwritten file (a full disk, a crash mid-copy): what it held
                // can be rebuilt (a new identity, island id and caches), so it is kept aside
                // for a person to look at and the daemon starts instead of refusing to.
                let aside = path + ".damaged-" + String(Int(Date().timeIntervalSince1970))
                for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                    try FileManager.default.moveItem(atPath: path + suffix, toPath: aside + suffix)
                }
                database = try Self.open(path)
                setAside = aside
            }
        } catch let error as StateStoreError {
            close(lockDescriptor)
            throw error
        } catch {
            close(lockDescriptor)
            throw .database(path: path, reason: "\(error)")
        }
    }

    /// Opens (creating it private to its owner) and migrates the database, and checks that
    /// SQLite can read all of it.
    private static func open(_ path: String) throws -> DatabaseQueue {
        try StateDirectory.createPrivateFile(path)
        var configuration = GRDB.Configuration()
        configuration.label = "z2z.state"
        // Another process (an old daemon still stopping) may hold the write lock briefly.
        configuration.busyMode = .timeout(5)
        let database = try DatabaseQueue(path: path, configuration: configuration)
        let verdict = try database.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
        guard verdict == "ok" else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "quick_check: \(verdict ?? "no answer")")
        }
        try migrator.migrate(database)
        return database
    }

    deinit {
        // Closing the descriptor releases the directory's lock.
        close(lockDescriptor)
    }

    /// Schema versions, applied in order; never edit a migration that has shipped, add one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // One row each: CHECK (id = 1).
            try db.execute(sql: """
                CREATE TABLE node (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    private_key BLOB NOT NULL,
                    created_at DATETIME NOT NULL
                );
                CREATE TABLE island (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    island_id INTEGER NOT NULL,
                    updated_at DATETIME NOT NULL
                );
                CREATE TABLE routing_contact (
                    position INTEGER PRIMARY KEY,
                    node_id BLOB NOT NULL UNIQUE CHECK (length(node_id) = 32),
                    address BLOB NOT NULL CHECK (length(address) IN (4, 16)),
                    port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535)
                );
                CREATE TABLE record (
                    direction TEXT NOT NULL CHECK (direction IN ('exported', 'imported')),
                    key BLOB NOT NULL CHECK (length(key) = 32),
                    owner BLOB NOT NULL CHECK (length(owner) = 32),
                    sequence INTEGER NOT NULL,
                    tombstone BOOLEAN NOT NULL,
                    payload BLOB NOT NULL,
                    updated_at DATETIME NOT NULL,
                    PRIMARY KEY (direction, key, owner)
                );
                """)
        }
        migrator.registerMigration("v2") { db in
            // The last heartbeat incarnation used (`nextIncarnation`).
            try db.execute(sql: """
                CREATE TABLE incarnation (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    value INTEGER NOT NULL
                );
                """)
        }
        return migrator
    }

    /// Runs a database access, turning GRDB's errors into `StateStoreError`.
    func access<T>(_ body: () throws -> T) throws(StateStoreError) -> T {
        do {
            return try body()
        } catch let error as StateStoreError {
            throw error
        } catch {
            throw .database(path: databasePath, reason: "\(error)")
        }
    }
}

extension StateStore {
    // MARK: node identity and island

    /// This node's identity: the stored Ed25519 key, or a new one stored now (first start).
    public func identity() throws(StateStoreError) -> Identity {
        let seed: [UInt8] = try access {
            try database.write { db in
                if let stored = try Data.fetchOne(db, sql: "SELECT private_key FROM node WHERE id = 1") {
                    return Array(stored)
                }
                let fresh = Identity()
                let bytes = Array(fresh.privateKey.rawRepresentation)
                try db.execute(sql: "INSERT INTO node (id, private_key, created_at) VALUES (1, ?, ?)",
                               arguments: [Data(bytes), Date()])
                return bytes
            }
        }
        guard seed.count == 32, let identity = try? Identity(seed: seed) else { throw .corruptIdentity(bytes: seed.count) }
        return identity
    }

    /// The island this gateway last belonged to; nil before its first election.
    public func islandID() throws(StateStoreError) -> IslandID? {
        try access {
            try database.read { db in
                try Int64.fetchOne(db, sql: "SELECT island_id FROM island WHERE id = 1")
                    .map { IslandID(rawValue: UInt64(bitPattern: $0)) }
            }
        }
    }

    /// The heartbeat incarnation of this run: `wallClock` (milliseconds), or one above the
    /// last run's if that is not higher. A box whose clock starts behind its last run (no
    /// RTC, no NTP yet) must still order its heartbeats above the last run's, or the island's
    /// other gateways refuse them as replays (`ReplayGuard`). Stored before it is returned.
    public func nextIncarnation(wallClock: UInt64) throws(StateStoreError) -> UInt64 {
        try access {
            try database.write { db in
                let last = try Int64.fetchOne(db, sql: "SELECT value FROM incarnation WHERE id = 1").map { UInt64(bitPattern: $0) }
                let next = max(wallClock, (last ?? 0) &+ 1)
                try db.execute(sql: "INSERT INTO incarnation (id, value) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value",
                               arguments: [Int64(bitPattern: next)])
                return next
            }
        }
    }

    public func setIslandID(_ island: IslandID) throws(StateStoreError) {
        try access {
            try database.write { db in
                try db.execute(sql: """
                    INSERT INTO island (id, island_id, updated_at) VALUES (1, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET island_id = excluded.island_id, updated_at = excluded.updated_at
                    """, arguments: [Int64(bitPattern: island.rawValue), Date()])
            }
        }
    }
}
