import Primitives

/// A signed value stored under a record key (the gateway puts one service instance of one
/// island in `payload`). A key holds values of many owners, and an owner may hold several
/// values under one key, told apart by a `valueID` the owner chooses (OpenDHT's value id):
/// the pair (owner, value id) is the value's *slot* (`RecordSlot`). Each slot holds at most
/// one value, replaced only by a newer (higher `sequence`) value of the same slot that the
/// owner signed; a tombstone deletes the slot's value. Sequence numbers are per slot.
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
    /// Tells the owner's values under one key apart (0 for an owner's only value).
    public var valueID: UInt64
    /// The owner's raw Ed25519 public key (32 bytes).
    public var publicKey: [UInt8]
    public var sequence: UInt64
    public var ttl: UInt32
    public var isTombstone: Bool
    public var payload: [UInt8]
    /// Ed25519 signature (64 bytes) over `signedBytes`.
    public var signature: [UInt8]

    public init(
        key: RecordKey, owner: NodeID, valueID: UInt64 = 0, publicKey: [UInt8], sequence: UInt64, ttl: UInt32,
        isTombstone: Bool, payload: [UInt8], signature: [UInt8]
    ) {
        self.key = key
        self.owner = owner
        self.valueID = valueID
        self.publicKey = publicKey
        self.sequence = sequence
        self.ttl = ttl
        self.isTombstone = isTombstone
        self.payload = payload
        self.signature = signature
    }

    /// Domain separation so a record signature can never be replayed as anything else.
    static let signingContext: [UInt8] = Array("z2z-dht-record-v2".utf8)

    /// Which of the key's values this record is.
    public var slot: RecordSlot { RecordSlot(owner: owner, valueID: valueID) }

    /// The exact bytes the owner signs.
    public var signedBytes: [UInt8] {
        var w = ByteWriter()
        w.bytes(Record.signingContext)
        w.id(key.point)
        w.id(owner)
        w.u64(valueID)
        w.bytes(publicKey)
        w.u64(sequence)
        w.u32(ttl)
        w.u8(isTombstone ? 1 : 0)
        w.u16(UInt16(truncatingIfNeeded: payload.count))
        w.bytes(payload)
        return w.buffer
    }

    /// Bytes this record adds to a store (what `Limits.maxStoredBytes` counts).
    public var footprint: Int { 32 + 32 + 8 + 32 + 8 + 4 + 1 + payload.count + 64 }
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
