import Crypto
import Primitives

/// A node's long-term Ed25519 key pair and the id derived from it. It signs the records
/// the node owns; restarting a node with the same identity keeps its id.
// `@unchecked`: the private key is an immutable value (swift-crypto marks it Sendable only
// on some platforms); nothing here mutates it after init.
public struct Identity: @unchecked Sendable {
    public let privateKey: Curve25519.Signing.PrivateKey
    public let publicKey: [UInt8]
    public let id: NodeID

    public init(privateKey: Curve25519.Signing.PrivateKey = .init()) {
        self.privateKey = privateKey
        self.publicKey = Array(privateKey.publicKey.rawRepresentation)
        self.id = NodeID(publicKey: publicKey)
    }

    /// A reproducible identity from 32 seed bytes (tests, the simulator).
    public init(seed: [UInt8]) throws {
        try self.init(privateKey: .init(rawRepresentation: seed))
    }

    /// A reproducible identity drawn from a generator.
    public init(using rng: inout some RandomNumberGenerator) {
        var seed = [UInt8]()
        for _ in 0..<4 { let w = rng.next(); for s in stride(from: 0, to: 64, by: 8) { seed.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) } }
        // 32 bytes are always a valid Ed25519 seed.
        try! self.init(seed: seed)
    }

    /// Builds and signs a record for slot (this identity, `valueID`) under `key`.
    public func record(
        key: RecordKey, valueID: UInt64 = 0, sequence: UInt64, ttl: UInt32, payload: [UInt8], tombstone: Bool = false,
        issuedAt: UInt64 = 0
    ) -> Record {
        var r = Record(
            key: key, owner: id, valueID: valueID, publicKey: publicKey, sequence: sequence, ttl: ttl, issuedAt: issuedAt,
            isTombstone: tombstone, payload: payload, signature: [])
        r.signature = sign(r)
        return r
    }

    /// A tombstone deleting this identity's value in `value`'s slot: a higher sequence
    /// number, no payload, and a lifetime at least that of the value it deletes, issued no
    /// earlier (so a copy of the value kept back runs out before the tombstone does).
    public func tombstone(for value: Record, issuedAt: UInt64? = nil) -> Record {
        record(key: value.key, valueID: value.valueID, sequence: value.sequence + 1, ttl: value.ttl, payload: [], tombstone: true,
               issuedAt: max(issuedAt ?? value.issuedAt, value.issuedAt))
    }

    /// The same version signed again with a later issue time (a republish): holders keep it
    /// for another lifetime, and its copies are fresh again.
    public func reissued(_ record: Record, at issuedAt: UInt64) -> Record {
        guard record.owner == id, issuedAt > record.issuedAt else { return record }
        var r = record
        r.issuedAt = issuedAt
        r.signature = sign(r)
        return r
    }

    public func sign(_ record: Record) -> [UInt8] {
        // Ed25519 signing over bytes cannot fail for a valid key.
        Array(try! privateKey.signature(for: record.signedBytes))
    }
}
