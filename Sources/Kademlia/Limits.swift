/// Every bound the node enforces, in one value. The decoder checks counts and lengths
/// against these before it allocates; the record store and subscription table check the
/// rest before they grow.
public struct Limits: Hashable, Sendable {
    /// Largest datagram accepted or produced: one record of `maxPayloadBytes` with its
    /// signature and headers. Only a frame carrying one large record gets this big (IP
    /// fragments it); everything else is packed to `packedFrameBytes`.
    public var maxFrameBytes: Int = 9_400
    /// What responses with several contacts or records are packed to: a 1,500-byte Ethernet
    /// MTU with IPv6 and UDP headers, so ordinary traffic is never fragmented.
    public var packedFrameBytes: Int = 1_400
    public var maxContactsPerMessage: Int = 32
    public var maxRecordsPerMessage: Int = 16
    /// A value's payload. 9,000 bytes is an mDNS message's limit (RFC 6762 §17), so every
    /// service a link can carry fits, however large its TXT record.
    public var maxPayloadBytes: Int = 9_000
    /// Values (slots) one key holds on a node, over all owners. The gateway's `directory`
    /// key holds one value per island, a `type/...` key one per exported instance.
    public var maxValuesPerKey: Int = 1_024
    /// Values one owner holds under one key, so a single owner cannot fill a key.
    public var maxValuesPerOwnerPerKey: Int = 128
    public var maxStoredBytes: Int = 16 << 20
    /// Longest lifetime a record may ask for, in seconds.
    public var maxTTL: UInt32 = 86_400
    public var maxSubscribersPerKey: Int = 256
    public var maxSubscriptionsHeld: Int = 16_384
    /// Longest subscription lease granted, in seconds.
    public var maxLease: UInt32 = 3_600

    public init() {}

    public static let `default` = Limits()
}
