import Kademlia
import Primitives
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

    /// Answers are paged (`DHTNode.valuesResponse`): the values come in slot order whatever
    /// order they were stored in, expired ones left out, and a page from an offset is the
    /// rest of that order.
    @Test func copiesComeInSlotOrderAndPageFromAnOffset() {
        var store = RecordStore(limits: .default)
        let owners = (1...12).map { Fixtures.identity(UInt8($0)) }
        for (n, identity) in owners.enumerated().reversed() {
            for valueID in [UInt64(7), 3] {
                let ttl: UInt32 = n % 4 == 0 ? 100 : 600
                _ = store.store(copy(identity.record(key: key, valueID: valueID, sequence: 1, ttl: ttl, payload: [UInt8(n)])),
                                now: .zero, verifier: verifier)
            }
        }
        let all = store.copies(for: key, now: .zero).map(\.record.slot)
        #expect(all.count == 24)
        #expect(all == all.sorted())
        #expect(Array(store.copies(for: key, now: .zero, from: 7).map(\.record.slot)) == Array(all.dropFirst(7)))
        let later = Fixtures.at(200)
        let live = store.copies(for: key, now: later).map(\.record.slot)
        #expect(live.count == 18, "the 100 s values ran out")
        #expect(Array(store.copies(for: key, now: later, from: 5).map(\.record.slot)) == Array(live.dropFirst(5)))
        #expect(Array(store.copies(for: key, now: later, from: 18)).isEmpty)
        _ = store.removeExpired(now: later)
        _ = store.store(copy(owner.record(key: key, valueID: 5, sequence: 1, ttl: 600, payload: [])), now: later, verifier: verifier)
        let after = store.copies(for: key, now: later).map(\.record.slot)
        #expect(after.count == 19 && after == after.sorted())
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

    // MARK: slots: (owner, value id)

    @Test func anOwnerHoldsOneValuePerValueIDUnderAKey() {
        var store = RecordStore(limits: .default)
        for valueID in UInt64(1)...3 {
            let outcome = store.store(copy(owner.record(key: key, valueID: valueID, sequence: 1, ttl: 600, payload: [UInt8(valueID)])), now: .zero, verifier: verifier)
            #expect(outcome == .added)
        }
        #expect(store.copies(for: key, now: .zero).map(\.record.valueID) == [1, 2, 3])
        #expect(store.valueCount == 3)
    }

    @Test func aNewerSequenceReplacesOnlyItsOwnSlot() {
        var store = RecordStore(limits: .default)
        _ = store.store(copy(owner.record(key: key, valueID: 1, sequence: 1, ttl: 600, payload: [1])), now: .zero, verifier: verifier)
        _ = store.store(copy(owner.record(key: key, valueID: 2, sequence: 1, ttl: 600, payload: [2])), now: .zero, verifier: verifier)
        let outcome = store.store(copy(owner.record(key: key, valueID: 2, sequence: 2, ttl: 600, payload: [22])), now: .zero, verifier: verifier)
        #expect(outcome == .replaced)
        #expect(store.copies(for: key, now: .zero).map(\.record.payload) == [[1], [22]])
    }

    @Test func sequenceNumbersAreIndependentPerSlot() {
        var store = RecordStore(limits: .default)
        _ = store.store(copy(owner.record(key: key, valueID: 1, sequence: 9, ttl: 600, payload: [1])), now: .zero, verifier: verifier)
        // Slot 2 starts at 1 although slot 1 is at 9.
        let fresh = store.store(copy(owner.record(key: key, valueID: 2, sequence: 1, ttl: 600, payload: [2])), now: .zero, verifier: verifier)
        #expect(fresh == .added)
        // A stale sequence is stale within its slot only.
        let stale = store.store(copy(owner.record(key: key, valueID: 1, sequence: 8, ttl: 600, payload: [3])), now: .zero, verifier: verifier)
        #expect(stale == .rejected(.staleSequence))
        let sameSequence = store.store(copy(owner.record(key: key, valueID: 2, sequence: 1, ttl: 600, payload: [4])), now: .zero, verifier: verifier)
        #expect(sameSequence == .rejected(.staleSequence))
    }

    @Test func theSameValueIDOfTwoOwnersIsTwoSlots() {
        var store = RecordStore(limits: .default)
        let a = store.store(copy(owner.record(key: key, valueID: 7, sequence: 5, ttl: 600, payload: [1])), now: .zero, verifier: verifier)
        let b = store.store(copy(other.record(key: key, valueID: 7, sequence: 1, ttl: 600, payload: [2])), now: .zero, verifier: verifier)
        #expect(a == .added && b == .added)
        #expect(Set(store.copies(for: key, now: .zero).map(\.record.slot)) == [RecordSlot(owner: owner.id, valueID: 7), RecordSlot(owner: other.id, valueID: 7)])
    }

    @Test func aTombstoneDeletesOnlyItsSlotAndOutlivesItsValue() {
        var store = RecordStore(limits: .default)
        let one = owner.record(key: key, valueID: 1, sequence: 1, ttl: 600, payload: [1])
        let two = owner.record(key: key, valueID: 2, sequence: 1, ttl: 600, payload: [2])
        _ = store.store(copy(one), now: .zero, verifier: verifier)
        _ = store.store(copy(two), now: .zero, verifier: verifier)
        let deleted = store.store(copy(owner.tombstone(for: one)), now: Fixtures.at(10), verifier: verifier)
        #expect(deleted == .deleted)
        let held = store.copies(for: key, now: Fixtures.at(10)).map { ($0.record.valueID, $0.record.isTombstone) }
        #expect(held.map(\.0) == [1, 2] && held.map(\.1) == [true, false])
        // A stale replica of slot 1 cannot come back; slot 2 is untouched.
        #expect(store.store(copy(one), now: Fixtures.at(300), verifier: verifier) == .rejected(.staleSequence))
        #expect(store.entry(key: key, slot: two.slot)?.record == two)
    }

    @Test func aSignatureByAnotherKeyCannotClaimAnotherOwnersSlot() {
        var store = RecordStore(limits: .default)
        var forged = Record(key: key, owner: owner.id, valueID: 3, publicKey: other.publicKey, sequence: 1, ttl: 600, isTombstone: false, payload: [6], signature: [])
        forged.signature = other.sign(forged)
        #expect(store.store(copy(forged), now: .zero, verifier: verifier) == .rejected(.wrongOwner))
        var moved = owner.record(key: key, valueID: 3, sequence: 1, ttl: 600, payload: [6])
        moved.valueID = 4  // the signature was for slot 3
        #expect(store.store(copy(moved), now: .zero, verifier: verifier) == .rejected(.badSignature))
        #expect(store.valueCount == 0)
    }

    @Test func valuesPerKeyCountSlotsOfAllOwners() {
        var limits = Limits()
        limits.maxValuesPerKey = 3
        var store = RecordStore(limits: limits)
        for valueID in UInt64(1)...2 { _ = store.store(copy(owner.record(key: key, valueID: valueID, sequence: 1, ttl: 600, payload: [])), now: .zero, verifier: verifier) }
        #expect(store.store(copy(other.record(key: key, valueID: 1, sequence: 1, ttl: 600, payload: [])), now: .zero, verifier: verifier) == .added)
        #expect(store.store(copy(other.record(key: key, valueID: 2, sequence: 1, ttl: 600, payload: [])), now: .zero, verifier: verifier) == .rejected(.tooManyValuesPerKey))
        // A full key still takes a newer value in a slot it holds.
        #expect(store.store(copy(owner.record(key: key, valueID: 2, sequence: 2, ttl: 600, payload: [1])), now: .zero, verifier: verifier) == .replaced)
    }

    @Test func oneOwnerCannotFillAKey() {
        var limits = Limits()
        limits.maxValuesPerOwnerPerKey = 2
        var store = RecordStore(limits: limits)
        for valueID in UInt64(1)...2 { _ = store.store(copy(owner.record(key: key, valueID: valueID, sequence: 1, ttl: 600, payload: [])), now: .zero, verifier: verifier) }
        #expect(store.store(copy(owner.record(key: key, valueID: 3, sequence: 1, ttl: 600, payload: [])), now: .zero, verifier: verifier) == .rejected(.tooManyValuesPerOwner))
        #expect(RecordRejection.tooManyValuesPerOwner.reason == "too_many_values_per_owner")
        // Other owners and other keys are not affected.
        #expect(store.store(copy(other.record(key: key, valueID: 3, sequence: 1, ttl: 600, payload: [])), now: .zero, verifier: verifier) == .added)
        let second = RecordKey.make(network: Fixtures.network, namespace: "type", name: "other")
        #expect(store.store(copy(owner.record(key: second, valueID: 3, sequence: 1, ttl: 600, payload: [])), now: .zero, verifier: verifier) == .added)
        // Tombstones keep their slot; once a slot expires the owner may use another.
        #expect(store.store(copy(owner.record(key: key, valueID: 2, sequence: 2, ttl: 10, payload: [], tombstone: true)), now: .zero, verifier: verifier) == .deleted)
        #expect(store.store(copy(owner.record(key: key, valueID: 3, sequence: 1, ttl: 600, payload: [])), now: .zero, verifier: verifier) == .rejected(.tooManyValuesPerOwner))
        var short = RecordStore(limits: limits)
        _ = short.store(copy(owner.record(key: key, valueID: 1, sequence: 1, ttl: 10, payload: [])), now: .zero, verifier: verifier)
        _ = short.store(copy(owner.record(key: key, valueID: 2, sequence: 1, ttl: 600, payload: [])), now: .zero, verifier: verifier)
        #expect(short.removeExpired(now: Fixtures.at(10)).map(\.valueID) == [1])
        #expect(short.store(copy(owner.record(key: key, valueID: 3, sequence: 1, ttl: 600, payload: [])), now: Fixtures.at(10), verifier: verifier) == .added)
    }

    @Test func renewalAndExpiryArePerSlot() {
        var store = RecordStore(limits: .default)
        let one = owner.record(key: key, valueID: 1, sequence: 1, ttl: 100, payload: [1])
        let two = owner.record(key: key, valueID: 2, sequence: 1, ttl: 100, payload: [2])
        _ = store.store(copy(one), now: .zero, verifier: verifier)
        _ = store.store(copy(two), now: .zero, verifier: verifier)
        #expect(store.store(copy(two), now: Fixtures.at(90), verifier: verifier) == .renewed)
        #expect(store.removeExpired(now: Fixtures.at(100)).map(\.slot) == [one.slot])
        #expect(store.copies(for: key, now: Fixtures.at(150)).map(\.record) == [two])
    }

    @Test func everyRejectionHasAMetricLabel() {
        let labels = RecordRejection.allCases.map(\.reason)
        #expect(Set(labels).count == labels.count)
        #expect(labels.allSatisfy { !$0.isEmpty && $0 == $0.lowercased() })
    }
}
