/// Every bound the node enforces, in one value. The decoder checks counts and lengths
/// against these before it allocates; the record store and subscription table check the
/// rest before they grow; the transport's `InboundRateLimiter` meters datagrams before they
/// are decoded; the routing table keeps `maxContactsPerSubnetPerBucket`.
///
/// Defaults in the spirit of Avahi (a record fits one 9,000-byte mDNS message; one client's
/// objects and one interface's cache are bounded, 1,024 and 4,096) and OpenDHT (a global and
/// a smaller per-IP request rate; a bounded store), scaled to what one gateway must hold: an
/// island of 10,000 services (`Deploy/bench/memory`) fits every bound. Each refusal is
/// counted by its reason: `RecordRejection` in `Counters.rejections`, the table's in
/// `Counters.limitHits`, the rate limiter's in the transport's refusals.
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
    /// Values one `refresh` names (16 bytes each: 64 fit a packed frame).
    public var maxVersionsPerMessage: Int = 64
    /// A value's payload. 9,000 bytes is an mDNS message's limit (RFC 6762 §17), so every
    /// service a link can carry fits, however large its TXT record.
    public var maxPayloadBytes: Int = 9_000
    /// Values (slots) one key holds on a node, over all owners. The gateway's `directory`
    /// key holds one value per island, a `type/...` key one per exported instance.
    public var maxValuesPerKey: Int = 1_024
    /// Values one owner holds under one key, so a single owner cannot fill a key.
    public var maxValuesPerOwnerPerKey: Int = 128
    /// Values one owner holds on a node over all keys. An owner is an island's leader, so
    /// this is the records of one island a node holds (`RecordRejection.tooManyValuesFromOwner`).
    public var maxValuesPerOwner: Int = 16_384
    /// Bytes of all stored values (payloads, keys, signatures): the store's memory.
    public var maxStoredBytes: Int = 16 << 20
    /// Longest lifetime a record may ask for, in seconds.
    public var maxTTL: UInt32 = 86_400
    public var maxSubscribersPerKey: Int = 256
    public var maxSubscriptionsHeld: Int = 16_384
    /// Longest subscription lease granted, in seconds.
    public var maxLease: UInt32 = 3_600
    /// Inbound datagrams per second from one source (an IPv4 address, an IPv6 /64; on
    /// loopback one address and port), refilled continuously, and the burst it may save up.
    /// An idle peer sends well under one per second; a leader exporting an island of 10,000
    /// services sends about 220 stores per second (`Deploy/bench/memory`): the rate leaves
    /// that 4x room, so only a flood is cut.
    public var sourcePacketsPerSecond: Double = 1_000
    public var sourcePacketBurst: Double = 2_000
    /// Inbound datagrams per second from all sources together, and their burst: what a
    /// gateway handles without noticing (each costs an HMAC, a decode, at most one Ed25519
    /// check).
    public var totalPacketsPerSecond: Double = 10_000
    public var totalPacketBurst: Double = 20_000
    /// Sources the rate limiter tracks at once; beyond it, new sources share one bucket.
    public var rateLimitedSources: Int = 4_096
    /// Routing-table diversity against Sybil floods: at most this many contacts of one
    /// subnet (`subnetBitsIPv4`, `subnetBitsIPv6`) in one bucket; 0 turns it off. Loopback
    /// addresses are exempt (one host's test nodes).
    public var maxContactsPerSubnetPerBucket: Int = 2
    public var subnetBitsIPv4: Int = 24
    public var subnetBitsIPv6: Int = 48

    public init() {}

    public static let `default` = Limits()
}
