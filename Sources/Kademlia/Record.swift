/// A signed value stored under a record key: one owner's value (the gateway puts one
/// service instance of one island in `payload`). Several owners may hold a value under the
/// same key; each owner holds at most one, replaced only by a newer (higher `sequence`)
/// value that the same owner signed. A tombstone deletes the owner's value.
///
/// `ttl` is a lifetime in seconds counted from the moment a node receives the record, not
/// an absolute expiry: nodes' clocks differ and are never compared, so an absolute time
/// would make a fast clock drop values early and a slow one keep them. Holders hand a copy
/// on with the lifetime it has left (`RecordCopy.remaining`, unsigned, never more than the
/// signed `ttl`). The price: anyone who kept a copy can re-store it for another `ttl`
/// until a newer sequence number (a republish or a tombstone) supersedes it.
///
/// The signature covers every field but itself (`signedBytes`); `owner` must be the
/// SHA-256 of `publicKey`, so a valid signature by one key cannot claim another's slot.
public struct Record: Hashable, Sendable {
    public var key: RecordKey
    public var owner: NodeID
    /// The owner's raw Ed25519 public key (32 bytes).
    public var publicKey: [UInt8]
    public var sequence: UInt64
    public var ttl: UInt32
    public var isTombstone: Bool
    public var payload: [UInt8]
    /// Ed25519 signature (64 bytes) over `signedBytes`.
    public var signature: [UInt8]

    public init(
        key: RecordKey, owner: NodeID, publicKey: [UInt8], sequence: UInt64, ttl: UInt32,
        isTombstone: Bool, payload: [UInt8], signature: [UInt8]
    ) {
        self.key = key
        self.owner = owner
        self.publicKey = publicKey
        self.sequence = sequence
        self.ttl = ttl
        self.isTombstone = isTombstone
        self.payload = payload
        self.signature = signature
    }

    /// Domain separation so a record signature can never be replayed as anything else.
    static let signingContext: [UInt8] = Array("z2z-dht-record-v1".utf8)

    /// The exact bytes the owner signs.
    public var signedBytes: [UInt8] {
        var w = ByteWriter()
        w.bytes(Record.signingContext)
        w.id(key.point)
        w.id(owner)
        w.bytes(publicKey)
        w.u64(sequence)
        w.u32(ttl)
        w.u8(isTombstone ? 1 : 0)
        w.u16(UInt16(truncatingIfNeeded: payload.count))
        w.bytes(payload)
        return w.buffer
    }

    /// Bytes this record adds to a store (what `Limits.maxStoredBytes` counts).
    public var footprint: Int { 32 + 32 + 32 + 8 + 4 + 1 + payload.count + 64 }
}

/// A record as one node hands it to another: the signed record plus the lifetime it has
/// left at the sender, in seconds (at most `record.ttl`).
public struct RecordCopy: Hashable, Sendable {
    public var record: Record
    public var remaining: UInt32

    public init(record: Record, remaining: UInt32) {
        self.record = record
        self.remaining = remaining
    }
}
