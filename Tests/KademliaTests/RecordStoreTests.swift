import Kademlia
import Testing

@Suite struct RecordStoreTests {
    let owner = Fixtures.identity(1)
    let other = Fixtures.identity(2)
    let key = RecordKey.make(network: Fixtures.network, namespace: "type", name: "_ipp._tcp")
    let verifier = Ed25519Verifier()

    func copy(_ r: Record, remaining: UInt32? = nil) -> RecordCopy { RecordCopy(record: r, remaining: remaining ?? r.ttl) }

    @Test func storesOneValuePerOwnerUnderAKey() {
        var store = RecordStore(limits: .default)
        let result1 = store.store(copy(owner.record(key: key, sequence: 1, ttl: 600, payload: [1])), now: .zero, verifier: verifier)
        #expect(result1 == .added)
        let result2 = store.store(copy(other.record(key: key, sequence: 1, ttl: 600, payload: [2])), now: .zero, verifier: verifier)
        #expect(result2 == .added)
        #expect(store.copies(for: key, now: .zero).count == 2)
    }

    @Test func aNewerSequenceFromTheSameOwnerReplaces() {
        var store = RecordStore(limits: .default)
        _ = store.store(copy(owner.record(key: key, sequence: 1, ttl: 600, payload: [1])), now: .zero, verifier: verifier)
        let result3 = store.store(copy(owner.record(key: key, sequence: 2, ttl: 600, payload: [2])), now: .zero, verifier: verifier)
        #expect(result3 == .replaced)
        #expect(store.copies(for: key, now: .zero).map(\.record.payload) == [[2]])
    }

    @Test func anOlderOrEqualSequenceIsRejectedAsStale() {
        var store = RecordStore(limits: .default)
        _ = store.store(copy(owner.record(key: key, sequence: 5, ttl: 600, payload: [5])), now: .zero, verifier: verifier)
        let result4 = store.store(copy(owner.record(key: key, sequence: 4, ttl: 600, payload: [4])), now: .zero, verifier: verifier)
        #expect(result4 == .rejected(.staleSequence))
        let result5 = store.store(copy(owner.record(key: key, sequence: 5, ttl: 600, payload: [9])), now: .zero, verifier: verifier)
        #expect(result5 == .rejected(.staleSequence))
        #expect(RecordRejection.staleSequence.reason == "stale_sequence")
    }

    @Test func theSameRecordAgainRenewsItsLifetime() {
        var store = RecordStore(limits: .default)
        let r = owner.record(key: key, sequence: 1, ttl: 600, payload: [1])
        _ = store.store(copy(r), now: .zero, verifier: verifier)
        let result6 = store.store(copy(r), now: Fixtures.at(500), verifier: verifier)
        #expect(result6 == .renewed)
        #expect(store.copies(for: key, now: Fixtures.at(1000)).count == 1, "renewed at 500 s for 600 s")
        #expect(store.copies(for: key, now: Fixtures.at(1101)).isEmpty)
    }

    @Test func aBadSignatureIsRejected() {
        var store = RecordStore(limits: .default)
        var r = owner.record(key: key, sequence: 1, ttl: 600, payload: [1])
        r.payload = [2]  // tampered after signing
        let result7 = store.store(copy(r), now: .zero, verifier: verifier)
        #expect(result7 == .rejected(.badSignature))
        #expect(RecordRejection.badSignature.reason == "bad_signature")
    }

    @Test func aRecordSignedByAnotherKeyCannotClaimTheOwnersSlot() {
        var store = RecordStore(limits: .default)
        _ = store.store(copy(owner.record(key: key, sequence: 1, ttl: 600, payload: [1])), now: .zero, verifier: verifier)
        // `other` signs a record naming `owner` as owner, with its own (valid) signature.
        var forged = Record(key: key, owner: owner.id, publicKey: other.publicKey, sequence: 9, ttl: 600, isTombstone: false, payload: [6], signature: [])
        forged.signature = other.sign(forged)
        let result8 = store.store(copy(forged), now: .zero, verifier: verifier)
        #expect(result8 == .rejected(.wrongOwner))
        #expect(store.copies(for: key, now: .zero).map(\.record.payload) == [[1]])
    }

    @Test func anExpiredCopyIsRejectedAndHeldValuesExpire() {
        var store = RecordStore(limits: .default)
        let r = owner.record(key: key, sequence: 1, ttl: 600, payload: [1])
        let result9 = store.store(copy(r, remaining: 0), now: .zero, verifier: verifier)
        #expect(result9 == .rejected(.expired))
        let result10 = store.store(copy(r, remaining: 10), now: .zero, verifier: verifier)
        #expect(result10 == .added)
        #expect(store.copies(for: key, now: Fixtures.at(9)).first?.remaining == 1)
        let result11 = store.removeExpired(now: Fixtures.at(10))
        #expect(result11.map(\.sequence) == [1])
        #expect(store.keyCount == 0 && store.storedBytes == 0)
    }

    @Test func sizeLifetimeAndCountLimitsAreEnforced() {
        var limits = Limits()
        limits.maxPayloadBytes = 10
        limits.maxTTL = 100
        limits.maxValuesPerKey = 1
        var store = RecordStore(limits: limits)
        let result12 = store.store(copy(owner.record(key: key, sequence: 1, ttl: 50, payload: [UInt8](repeating: 0, count: 11))), now: .zero, verifier: verifier)
        #expect(result12 == .rejected(.tooLarge))
        let result13 = store.store(copy(owner.record(key: key, sequence: 1, ttl: 101, payload: [])), now: .zero, verifier: verifier)
        #expect(result13 == .rejected(.ttlTooLong))
        let result14 = store.store(copy(owner.record(key: key, sequence: 1, ttl: 50, payload: [])), now: .zero, verifier: verifier)
        #expect(result14 == .added)
        let result15 = store.store(copy(other.record(key: key, sequence: 1, ttl: 50, payload: [])), now: .zero, verifier: verifier)
        #expect(result15 == .rejected(.tooManyValuesPerKey))

        var tiny = Limits()
        tiny.maxStoredBytes = 300
        var small = RecordStore(limits: tiny)
        let result16 = small.store(copy(owner.record(key: key, sequence: 1, ttl: 50, payload: [1])), now: .zero, verifier: verifier)
        #expect(result16 == .added)
        let second = RecordKey.make(network: Fixtures.network, namespace: "type", name: "other")
        let result17 = small.store(copy(owner.record(key: second, sequence: 1, ttl: 50, payload: [1])), now: .zero, verifier: verifier)
        #expect(result17 == .rejected(.storeFull))
    }

    @Test func aTombstoneDeletesAndOutlivesTheValueSoStaleCopiesCannotReturn() {
        var store = RecordStore(limits: .default)
        let value = owner.record(key: key, sequence: 1, ttl: 600, payload: [1])
        _ = store.store(copy(value), now: .zero, verifier: verifier)
        let tombstone = owner.record(key: key, sequence: 2, ttl: 60, payload: [], tombstone: true)
        let result18 = store.store(copy(tombstone), now: Fixtures.at(10), verifier: verifier)
        #expect(result18 == .deleted)
        // A stale replica re-offers the old value long after the tombstone's own ttl.
        let result19 = store.store(copy(value), now: Fixtures.at(500), verifier: verifier)
        #expect(result19 == .rejected(.staleSequence))
        #expect(store.copies(for: key, now: Fixtures.at(500)).map(\.record.isTombstone) == [true])
        // Once the old value's lifetime is over the tombstone goes too.
        _ = store.removeExpired(now: Fixtures.at(601))
        #expect(store.keyCount == 0)
    }

    @Test func everyRejectionHasAMetricLabel() {
        let labels = RecordRejection.allCases.map(\.reason)
        #expect(Set(labels).count == labels.count)
        #expect(labels.allSatisfy { !$0.isEmpty && $0 == $0.lowercased() })
    }
}
