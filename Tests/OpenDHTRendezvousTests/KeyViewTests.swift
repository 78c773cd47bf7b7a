import Kademlia
@testable import OpenDHTRendezvous
import Primitives
import Rendezvous
import Testing

/// The reader's side of the OpenDHT engine without a network: records in and out of
/// OpenDHT value bytes, and the per-key view that hides stale copies.
struct KeyViewTests {
    static let network = NetworkID(name: "keyview-test")
    let key = RecordKey.make(network: Self.network, namespace: "type", name: "_ipp._tcp")
    let alice: Identity
    let bob: Identity

    init() throws {
        alice = try Identity(seed: Array(repeating: 1, count: 32))
        bob = try Identity(seed: Array(repeating: 2, count: 32))
    }

    func record(_ identity: Identity, _ valueID: UInt64, _ sequence: UInt64, _ payload: String, tombstone: Bool = false) -> Record {
        identity.record(key: key, valueID: valueID, sequence: sequence, ttl: 600, payload: Array(payload.utf8), tombstone: tombstone)
    }

    @Test func aSignedValueRoundTripsAndIsCheckedForNetworkKeyAndSignature() throws {
        let original = record(alice, 7, 10, "printer")
        let bytes = SignedValue.encode(original, network: Self.network)
        #expect(try SignedValue.decode(bytes, network: Self.network, key: key) == original)

        #expect(throws: SignedValue.Rejection.otherNetwork) {
            try SignedValue.decode(bytes, network: NetworkID(name: "elsewhere"), key: key)
        }
        let otherKey = RecordKey.make(network: Self.network, namespace: "type", name: "_http._tcp")
        #expect(throws: SignedValue.Rejection.otherKey) { try SignedValue.decode(bytes, network: Self.network, key: otherKey) }

        var forged = original
        forged.payload = Array("scanner".utf8)
        #expect(throws: SignedValue.Rejection.forged(.badSignature)) {
            try SignedValue.decode(SignedValue.encode(forged, network: Self.network), network: Self.network, key: key)
        }
        var stolen = original
        stolen.owner = bob.id
        #expect(throws: SignedValue.Rejection.forged(.wrongOwner)) {
            try SignedValue.decode(SignedValue.encode(stolen, network: Self.network), network: Self.network, key: key)
        }
        #expect(throws: SignedValue.Rejection.malformed(.truncated)) {
            try SignedValue.decode(Array(bytes.prefix(20)), network: Self.network, key: key)
        }
        #expect((try? SignedValue.decode(Array("hello from another OpenDHT user".utf8), network: Self.network, key: key)) == nil)
    }

    @Test func withANetworkKeyOnlyValuesTaggedWithItAreTaken() throws {
        let key = try #require(NetworkKey(secret: Array(repeating: 7, count: 32), network: Self.network))
        let other = try #require(NetworkKey(secret: Array(repeating: 8, count: 32), network: Self.network))
        let original = record(alice, 7, 10, "printer")
        let tagged = SignedValue.encode(original, network: Self.network, key: key)
        #expect(try SignedValue.decode(tagged, network: Self.network, key: self.key, networkKey: key) == original)
        #expect(throws: SignedValue.Rejection.malformed(.badTag)) {
            try SignedValue.decode(tagged, network: Self.network, key: self.key, networkKey: other)
        }
        let untagged = SignedValue.encode(original, network: Self.network)
        #expect(throws: SignedValue.Rejection.malformed(.missingTag)) {
            try SignedValue.decode(untagged, network: Self.network, key: self.key, networkKey: key)
        }
        // A flipped payload byte under a valid-looking tag is refused before the signature is read.
        var flipped = tagged
        flipped[flipped.count / 2] ^= 1
        #expect(throws: SignedValue.Rejection.malformed(.badTag)) {
            try SignedValue.decode(flipped, network: Self.network, key: self.key, networkKey: key)
        }
    }

    @Test func theNewestCopyOfASlotWinsAndStaleCopiesNeverComeBack() {
        var view = KeyView(key: key)
        let first = view.add(record(alice, 7, 10, "v1"), openDHTID: 100)
        #expect(first.count == 1 && view.values.values.map(\.payload) == [Array("v1".utf8)])

        // The replacement is a new OpenDHT value; the old copy is still stored.
        let replaced = view.add(record(alice, 7, 11, "v2"), openDHTID: 101)
        guard case .upserted(let value)? = replaced.first else { Issue.record("no upsert: \(replaced)"); return }
        #expect(value.sequence == 11 && value.payload == Array("v2".utf8))
        // A late duplicate of the old copy (another storing node) changes nothing.
        #expect(view.add(record(alice, 7, 10, "v1"), openDHTID: 100).isEmpty)
        // The old copy expiring changes nothing either.
        #expect(view.expire(openDHTID: 100).isEmpty)
        #expect(view.values.count == 1)
    }

    @Test func aTombstoneRemovesTheSlotAndItsExpiryDoesNotResurrectOlderCopies() {
        var view = KeyView(key: key)
        _ = view.add(record(alice, 7, 10, "v1"), openDHTID: 100)
        _ = view.add(record(bob, 7, 3, "bob's"), openDHTID: 200)
        let removal = view.add(record(alice, 7, 11, "", tombstone: true), openDHTID: 101)
        #expect(removal == [.removed(key, ValueSlot(owner: alice.id, valueID: 7))])
        #expect(view.values.keys.map(\.owner) == [bob.id], "other owners' slots are untouched")
        #expect(view.expire(openDHTID: 101).isEmpty, "the stale copy (sequence 10) stays hidden")
        // A put after the removal shows again.
        let again = view.add(record(alice, 7, 12, "v3"), openDHTID: 102)
        #expect(again.count == 1)
    }

    @Test func aValueWhoseNewestCopyExpiresIsReportedRemoved() {
        var view = KeyView(key: key)
        _ = view.add(record(alice, 1, 5, "x"), openDHTID: 1)
        #expect(view.expire(openDHTID: 1) == [.removed(key, ValueSlot(owner: alice.id, valueID: 1))])
        #expect(view.expire(openDHTID: 1).isEmpty)
    }

    @Test func theOpenDHTNetworkIDIsTheTopHalfOfOurs() {
        let network = NetworkID(rawValue: 0x1234_5678_9abc_def0)
        #expect(OpenDHTRendezvous.openDHTNetwork(for: network) == 0x1234_5678)
    }
}
