import Primitives

/// The protocol's parameters. Defaults follow the paper where it gives one (k = 20,
/// α = 3, refresh after an idle hour) and are chosen for low idle traffic elsewhere.
public struct Configuration: Sendable {
    public var network: NetworkID
    /// The overlay to start in (normally nil: a node adopts the overlay of the first node it
    /// meets, and two founders name theirs after the smaller of their ids; `DHTNode+Merging`).
    public var overlay: UInt64? = nil
    public var k = 20
    /// Nodes a put or a republish stores on: the closest its lookup found (OpenDHT: 8).
    /// Separate from `k`, which sizes buckets, lookups and answers: a get or a subscription
    /// still converges on the k closest and meets these on its way, and the
    /// `subscriptionReplicas` holders are the closest of them.
    public var storeReplicas = 8
    public var alpha = 3
    /// The wait for an answer before any round trip was measured; then the timeout follows
    /// the measured round-trip time (smoothed RTT + 4 × variation), between
    /// `minimumRequestTimeout` and `maximumRequestTimeout`.
    public var requestTimeout: Interval = .seconds(1)
    public var minimumRequestTimeout: Interval = .milliseconds(250)
    /// Longest wait for an answer: above a round trip of about a second (satellite and
    /// radio links), answers must still count. Capped at 1 s, lookups with 0.6–1.2 s round
    /// trips found the true closest node 66 % of the time (RELIABILITY.md, delay).
    public var maximumRequestTimeout: Interval = .seconds(3)
    /// Unanswered requests in a row before a contact is dropped.
    public var maxFailures = 2
    /// A full bucket's oldest entry heard from within this is kept without a probe.
    public var recentlySeen: Interval = .seconds(60)
    /// A bucket with no activity for this long is refreshed (paper: one hour).
    public var bucketRefreshInterval: Interval = .minutes(60)
    /// The neighbourhood is re-checked this soon after it changed...
    public var neighbourhoodRefreshMin: Interval = .seconds(1)
    /// ...and the wait doubles while it stays the same, up to this.
    public var neighbourhoodRefreshMax: Interval = .minutes(10)
    /// How often timers are checked that need no exact deadline.
    public var maintenancePeriod: Interval = .seconds(5)
    /// Own records are republished after this fraction of their lifetime: near expiry, as
    /// OpenDHT does (a republish is an id-only refresh, and a subscriber checks a value when
    /// its copy runs out, so both happen once per republish: the later the fewer). 0.8 by
    /// measurement (`z2z-bench dht steady`: 0.5 → 0.8 cut idle bytes by a third at 64 and
    /// 256 nodes); with the ±10 % jitter the latest republish still leaves 12 % of the lifetime.
    public var republishFraction = 0.8
    /// The wall clock (Unix seconds) when the node's `now` was zero: the node's clock is
    /// monotonic, records carry issue times (`Record.issuedAt`). With it the node stamps its
    /// own records with the issue time when it puts and republishes them, and holds every
    /// record it stores to its issue time (`RecordStore`). The adapter sets it at start; nil
    /// (the simulator, most tests) leaves issue times out: lifetimes count from receipt only.
    public var wallClockAtZero: UInt64?
    /// How long an owner's clock is reckoned without a record of it (`OwnerClocks`): well
    /// past a live owner's republish interval (0.8 of a 300 s lifetime for gateways).
    public var ownerClockHorizon: Interval = .seconds(900)
    public var subscriptionLease: UInt32 = 600
    public var subscriptionReplicas = 4
    public var subscriptionRelookupInterval: Interval = .minutes(30)
    public var limits = Limits.default
    /// Admission: the adapter's codec tags every frame with this key and refuses frames
    /// without a valid tag (`WireCodec`), so they never reach the node. nil is open mode
    /// (tests, benchmarks, labs); z2zd always sets one unless `[security] open = true`.
    public var networkKey: NetworkKey? = nil
    /// Overlay members (this node included) at which direct exchange gives way to the DHT.
    /// Below it a put goes to every member and reads are local (`DHTNode+DirectExchange`).
    /// 24 by measurement (BENCHMARKS.md, "Islands and overlays"): up to 64 members direct
    /// exchange costs less per put, notifies and reads sooner, and forms for fewer bytes,
    /// but its idle probing (every member pings every other) overtakes the DHT's near 28–32.
    public var structureThreshold = 24
    /// In direct exchange, a member silent for this long is pinged.
    public var memberProbeInterval: Interval = .minutes(5)
    /// A node behind NAT pings members (and subscription holders) silent for this long, so
    /// that its router keeps the mappings through which they reach it (Linux forgets an
    /// idle UDP mapping after 30 s unanswered, 120 s answered; home routers often sooner;
    /// ICE and libp2p keep theirs open every 15–25 s). Nodes not behind NAT never do.
    public var natKeepalive: Interval = .seconds(15)
    /// In direct exchange, unanswered requests in a row before a member is dropped. More
    /// than `maxFailures`: a member keeps its unacknowledged stores only while it is one,
    /// and at 20 % loss two failures in a row happen to 13 % of a request's answers
    /// (four: 1.7 %); a dead member still goes within seconds of its first store.
    public var maxMemberFailures = 4
    /// In direct exchange, a store a member has not acknowledged is sent again this long
    /// after it went out, then after twice as long each time, up to `redeliveryMax`, until the
    /// member acknowledges it or is dropped (`Redelivery`); at most
    /// `maxUnacknowledgedPerMember` records per member wait so.
    public var redeliveryFirst: Interval = .seconds(1)
    public var redeliveryMax: Interval = .seconds(8)
    public var maxUnacknowledgedPerMember = 64
    /// In direct exchange, a member dropped as dead is pinged again this long after it was
    /// dropped, then after twice as long each time, up to `lostMemberProbeMax` (until
    /// `lostMemory`): one that answers is met anew, and the two hand each other their records.
    public var lostMemberProbeFirst: Interval = .seconds(2)
    public var lostMemberProbeMax: Interval = .seconds(10)
    /// A node that knows nobody pings its bootstrap endpoints again this often.
    public var reseedInterval: Interval = .seconds(10)
    /// How long a merging node flags its messages, so that its overlay joins in.
    public var mergeWindow: Interval = .seconds(30)
    /// After a merge starts, the wait before the self-lookup through the node it heard.
    public var mergeRejoinDelay: Interval = .seconds(1)
    /// After a merge starts, the wait before republishing own records and re-finding
    /// subscription holders (the rejoin lookup fills the routing table first).
    public var mergeSettle: Interval = .seconds(4)
    /// A node joins in on another's merge (flag, lost contact back) at most once this often.
    public var mergeCooldown: Interval = .seconds(60)
    /// Contacts dropped as dead are pinged again (one per maintenance period) from this long
    /// after they were dropped until `lostMemory`: one that answers means a partition healed.
    public var lostProbeDelay: Interval = .seconds(15)
    public var lostMemory: Interval = .minutes(10)

    public init(network: NetworkID) { self.network = network }
}
