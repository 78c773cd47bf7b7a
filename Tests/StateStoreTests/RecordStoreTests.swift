import Foundation
import Primitives
import StateStore
import Testing

/// Exported and imported records: keyed by (DHT key, owner), sequence numbers never go back.
struct StoredRecordTests {
    let directory = TemporaryDirectory()
    let key = RecordKey(point: NodeID(w0: 0xaa, w1: 1, w2: 2, w3: 3))
    let otherKey = RecordKey(point: NodeID(w0: 0xbb, w1: 1, w2: 2, w3: 3))
    let owner = NodeID(w0: 9, w1: 9, w2: 9, w3: 9)
    let stranger = NodeID(w0: 8, w1: 8, w2: 8, w3: 8)

    @Test func aRestartedLeaderContinuesItsSequenceNumbers() throws {
        do {
            let store = try StateStore(directory: directory.path)
            #expect(try store.nextSequence(key: key, owner: owner) == 1)
            try store.save(StoredRecord(key: key, owner: owner, sequence: 1, payload: [1, 2, 3]), .exported)
            try store.save(StoredRecord(key: key, owner: owner, sequence: 2, payload: [4]), .exported)
        }
        let store = try StateStore(directory: directory.path)
        #expect(try store.nextSequence(key: key, owner: owner) == 3)
        #expect(try store.record(.exported, key: key, owner: owner)?.payload == [4])
    }

    @Test func aWithdrawalIsKeptAsATombstoneSoTheNextValueGoesAboveIt() throws {
        let store = try StateStore(directory: directory.path)
        try store.save(StoredRecord(key: key, owner: owner, sequence: 5, payload: [1]), .exported)
        try store.save(StoredRecord(key: key, owner: owner, sequence: 6, isTombstone: true, payload: []), .exported)
        let stored = try #require(try store.record(.exported, key: key, owner: owner))
        #expect(stored.isTombstone && stored.sequence == 6)
        #expect(try store.nextSequence(key: key, owner: owner) == 7)
    }

    @Test func sequenceNumbersNeverGoBack() throws {
        let store = try StateStore(directory: directory.path)
        try store.save(StoredRecord(key: key, owner: owner, sequence: 10, payload: [1]), .exported)
        #expect(throws: StateStoreError.staleSequence(stored: 10, offered: 9)) {
            try store.save(StoredRecord(key: key, owner: owner, sequence: 9, payload: [2]), .exported)
        }
        // The same sequence again replaces (a retried write).
        try store.save(StoredRecord(key: key, owner: owner, sequence: 10, payload: [3]), .exported)
        #expect(try store.record(.exported, key: key, owner: owner)?.payload == [3])
    }

    @Test func fullSixtyFourBitSequencesSurviveSQLitesSignedIntegers() throws {
        let store = try StateStore(directory: directory.path)
        try store.save(StoredRecord(key: key, owner: owner, sequence: UInt64.max - 1, payload: []), .exported)
        #expect(try store.record(.exported, key: key, owner: owner)?.sequence == UInt64.max - 1)
        #expect(throws: StateStoreError.self) {
            try store.save(StoredRecord(key: key, owner: owner, sequence: 1 << 63, payload: []), .exported)
        }
    }

    @Test func directionsKeysAndOwnersAreSeparateSlots() throws {
        let store = try StateStore(directory: directory.path)
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        let records = [
            StoredRecord(key: key, owner: owner, sequence: 1, payload: [1], updatedAt: date),
            StoredRecord(key: key, owner: stranger, sequence: 7, payload: [2], updatedAt: date),
            StoredRecord(key: otherKey, owner: stranger, sequence: 3, payload: Array(repeating: 0xff, count: 9000), updatedAt: date),
        ]
        for record in records { try store.save(record, .imported) }
        try store.save(StoredRecord(key: key, owner: owner, sequence: 100, payload: [9], updatedAt: date), .exported)
        #expect(try store.records(.imported) == records.sorted { ($0.key, $0.owner) < ($1.key, $1.owner) })
        #expect(try store.records(.exported).map(\.sequence) == [100])

        try store.deleteRecord(.imported, key: key, owner: stranger)
        #expect(try store.records(.imported).count == 2)
        try store.deleteRecords(.imported)
        #expect(try store.records(.imported).isEmpty)
        #expect(try store.records(.exported).count == 1)
    }
}
