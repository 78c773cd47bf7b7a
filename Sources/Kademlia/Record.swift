import Primitives

/// A signed value stored under a record key (the gateway puts one service instance of one
/// island in `payload`). A key holds values of many owners, and an owner may hold several
/// values under one key, told apart by a `valueID` the owner chooses (OpenDHT's value id):
/// the pair (owner, value id) is the value's *slot* (`RecordSlot`). Each slot holds at most
/// one value, replaced only by a newer (higher `sequence`) value of the same slot that the
/// owner signed; a tombstone deletes the slot's value. Sequence numbers are per slot.
///
/// `ttl` is a lifetime in seconds counted from the moment a node receives the record:
/// holders hand a copy on with the lifetime it has left (`RecordCopy.remaining`, unsigned,
/// never more than the signed `ttl`). On its own that let anyone who kept a copy store it
/// again for another `ttl`, a withdrawn service back for minutes (issue 18, point 2). So
/// the record also carries `issuedAt`, the owner's wall clock when it signed, and no node
/// keeps it past `issuedAt + ttl + Record.clockSkew` on the owner's clock as the node
/// reckons it from the owner's records (`OwnerClocks`; ad hoc networks often have no NTP,
/// so nodes' clocks are never compared with each other): a replay
/// runs out with the record it copies, and one whose time is past is refused (`stale`).
/// The owner's node signs its records again, with a new `issuedAt`, whenever it puts or
/// republishes them (`DHTNode.stamped`), so a live record's copies are always recent.
/// Nodes whose clocks differ by any amount take each other's fresh records.
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
    /// When the owner signed this version: Unix seconds on the owner's clock.
    public var issuedAt: UInt64
    public var isTombstone: Bool
    public var payload: [UInt8]
    /// Ed25519 signature (64 bytes) over `signedBytes`.
    public var signature: [UInt8]

    public init(
        key: RecordKey, owner: NodeID, valueID: UInt64 = 0, publicKey: [UInt8], sequence: UInt64, ttl: UInt32,
        issuedAt: UInt64 = 0, isTombstone: Bool, payload: [UInt8], signature: [UInt8]
    ) {
        self.key = key
        self.owner = owner
        self.valueID = valueID
        self.publicKey = publicKey
        self.sequence = sequence
        self.ttl = ttl
        self.issuedAt = issuedAt
        self.isTombstone = isTombstone
        self.payload = payload
        self.signature = signature
    }

    /// Domain separation so a record signature can never be replayed as anything else.
    static let signingContext: [UInt8] = Array("z2z-dht-record-v3".utf8)

    /// Slack on top of a record's lifetime before it counts as stale (seconds): the error of
    /// the reckoning of its owner's clock (transit, clock drift between republishes).
    /// Modest on purpose: it is also how long a replay may outlive its version.
    public static let clockSkew: UInt64 = 60

    /// The last moment (Unix seconds) any node keeps this version, on its own clock.
    public var validUntil: UInt64 {
        let (end, overflow) = issuedAt.addingReportingOverflow(UInt64(ttl) + Record.clockSkew)
        return overflow ? .max : end
    }

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
        w.u64(issuedAt)
        w.u8(isTombstone ? 1 : 0)
        w.u16(UInt16(truncatingIfNeeded: payload.count))
        w.bytes(payload)
        return w.buffer
    }

    /// Bytes this record adds to a store (what `Limits.maxStoredBytes` counts).
    public var footprint: Int { 32 + 32 + 8 + 32 + 8 + 4 + 8 + 1 + payload.count + 64 }
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
