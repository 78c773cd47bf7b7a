import Foundation
import Island
import Kademlia
import Primitives
import StateStore
import Testing

/// A private temporary directory, removed when the value is dropped at the end of a test.
final class TemporaryDirectory {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("z2z-state-\(UUID().uuidString)").path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func mode(of path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
}

struct StateStoreTests {
    let directory = TemporaryDirectory()

    @Test func firstStartCreatesAPrivateDirectoryAndDatabase() throws {
        let store = try StateStore(directory: directory.path + "/nested/state")
        #expect(try mode(of: store.directory) == 0o700)
        #expect(try mode(of: store.databasePath) == 0o600)
        // Nothing but the database and the lock: the write probe is gone.
        let files = try FileManager.default.contentsOfDirectory(atPath: store.directory).filter { !$0.hasPrefix("z2z.sqlite-") }
        #expect(Set(files) == ["z2z.sqlite", "z2zd.lock"])
    }

    /// Issue 18: a truncated database stopped the daemon from starting (SQLite error 11).
    @Test func aTruncatedDatabaseIsSetAsideAndANewOneStarted() throws {
        let path: String
        let firstIdentity: Identity
        do {
            let store = try StateStore(directory: directory.path)
            firstIdentity = try store.identity()
            try store.setIslandID(IslandID(rawValue: 7))
            #expect(store.setAside == nil)
            path = store.databasePath
        }
        // Cut the file in the middle of its pages, as a full disk or a crash mid-copy would.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.count > 4096)
        try bytes.prefix(bytes.count / 2 + 100).write(to: URL(fileURLWithPath: path))
        let reopened = try StateStore(directory: directory.path)
        let aside = try #require(reopened.setAside)
        #expect(FileManager.default.fileExists(atPath: aside), "the damaged file is kept for a person to look at")
        #expect(try reopened.islandID() == nil, "a new database")
        #expect(try reopened.identity().id != firstIdentity.id)
        #expect(try mode(of: reopened.databasePath) == 0o600)
    }

    /// Heartbeats of a run order above the last run's even when the clock starts behind it
    /// (no RTC, no NTP yet): the other gateways would refuse them as replays otherwise.
    @Test func theIncarnationGrowsAcrossRestartsWhateverTheClockSays() throws {
        do {
            let store = try StateStore(directory: directory.path)
            #expect(try store.nextIncarnation(wallClock: 1_000) == 1_000)
        }
        let store = try StateStore(directory: directory.path) // a restart, its clock set back
        #expect(try store.nextIncarnation(wallClock: 10) == 1_001)
        #expect(try store.nextIncarnation(wallClock: 5_000) == 5_000)
    }

    @Test func identityIsCreatedOnceAndSurvivesARestart() throws {
        let first: Identity
        do {
            let store = try StateStore(directory: directory.path)
            first = try store.identity()
            #expect(try store.identity().id == first.id)
        }
        let reopened = try StateStore(directory: directory.path)
        let again = try reopened.identity()
        #expect(again.id == first.id)
        #expect(again.privateKey.rawRepresentation == first.privateKey.rawRepresentation)
    }

    @Test func aLooseDatabaseFileModeIsTightened() throws {
        do { _ = try StateStore(directory: directory.path) }
        let database = directory.path + "/" + StateStore.databaseFileName
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: database)
        _ = try StateStore(directory: directory.path)
        #expect(try mode(of: database) == 0o600)
    }

    @Test func islandIDIsAbsentUntilSetAndKeepsAllSixtyFourBits() throws {
        let store = try StateStore(directory: directory.path)
        #expect(try store.islandID() == nil)
        try store.setIslandID(IslandID(rawValue: 0xfedc_ba98_7654_3210))
        #expect(try store.islandID() == IslandID(rawValue: 0xfedc_ba98_7654_3210))
        try store.setIslandID(IslandID(rawValue: 1))
        #expect(try store.islandID() == IslandID(rawValue: 1))
    }

    @Test func routingCacheRoundTripsIPv4AndIPv6InOrder() throws {
        let store = try StateStore(directory: directory.path)
        #expect(try store.routingCache().isEmpty)
        var rng = Xoshiro256(seed: 7)
        let contacts = [
            Contact(id: NodeID.random(using: &rng), endpoint: Endpoint(ipv4: 192, 0, 2, 1, port: 7400)),
            Contact(id: NodeID.random(using: &rng), endpoint: Endpoint(address: .v6(0x2001_0db8_0000_0000, 1), port: 7401)),
            Contact(id: NodeID.random(using: &rng), endpoint: Endpoint(ipv4: 10, 0, 0, 255, port: 65535)),
        ]
        try store.saveRoutingCache(contacts)
        #expect(try store.routingCache() == contacts)
        // Replaced as a whole, not merged.
        try store.saveRoutingCache(Array(contacts.prefix(1)))
        #expect(try store.routingCache() == Array(contacts.prefix(1)))
    }

    @Test func routingCacheKeepsTheFirstOfDuplicateIDsAndRefusesAbsurdSizes() throws {
        let store = try StateStore(directory: directory.path)
        let id = NodeID(w0: 1, w1: 2, w2: 3, w3: 4)
        try store.saveRoutingCache([
            Contact(id: id, endpoint: Endpoint(ipv4: 192, 0, 2, 1, port: 1)),
            Contact(id: id, endpoint: Endpoint(ipv4: 192, 0, 2, 2, port: 2)),
        ])
        #expect(try store.routingCache().map(\.endpoint.port) == [1])
        let tooMany = (0...StateStore.routingCacheLimit).map {
            Contact(id: NodeID(w0: UInt64($0), w1: 0, w2: 0, w3: 0), endpoint: Endpoint(ipv4: 192, 0, 2, 1, port: 1))
        }
        #expect(throws: StateStoreError.routingCacheTooLarge(count: tooMany.count, limit: StateStore.routingCacheLimit)) {
            try store.saveRoutingCache(tooMany)
        }
    }
}

struct StateDirectoryErrorTests {
    @Test func aFileWhereTheDirectoryShouldBeIsNamed() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let file = directory.path + "/file"
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        #expect(throws: StateStoreError.notADirectory(path: file)) { try StateStore(directory: file) }
        let error = #expect(throws: StateStoreError.self) { try StateStore(directory: file + "/below") }
        guard case .cannotCreateDirectory(let path, _) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path == file + "/below")
    }

    /// procfs refuses new files even to root, which passes every permission check elsewhere.
    @Test func anUnwritableDirectoryIsRefusedWithAClearMessage() throws {
        let error = #expect(throws: StateStoreError.self) { try StateStore(directory: "/proc") }
        guard case .notWritable(let path, _) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(path == "/proc")
        #expect(error?.description.contains("--state-dir") == true)
    }

    @Test func aSecondStoreOnTheSameDirectoryIsRefusedUntilTheFirstIsReleased() throws {
        let directory = TemporaryDirectory()
        do {
            let first = try StateStore(directory: directory.path)
            #expect(throws: StateStoreError.inUse(path: directory.path)) { try StateStore(directory: directory.path) }
            _ = first
        }
        _ = try StateStore(directory: directory.path)
    }
}
