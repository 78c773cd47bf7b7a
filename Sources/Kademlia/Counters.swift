/// Message and event counts of one node, for metrics and benchmarks.
public struct Counters: Hashable, Sendable {
    public var sent = [Int](repeating: 0, count: 16)
    public var received = [Int](repeating: 0, count: 16)
    public var timeouts = 0
    public var dropped = 0
    public var rejections: [RecordRejection: Int] = [:]
    /// Lookups started, by purpose (bootstrap, lookup, put, republish, get, subscribe,
    /// bucket_refresh, neighbourhood), and the requests they sent.
    public var lookups: [String: Int] = [:]
    public var lookupRequests: [String: Int] = [:]
    /// Limits that refused something other than a record, by reason: `subnet_per_bucket`
    /// (routing-table diversity). Record refusals are in `rejections`, datagrams refused
    /// before decoding (rate limits, admission) in the transport's refusals.
    public var limitHits: [String: Int] = [:]
    /// Changes of stage, keyed "from->to" (e.g. "interconnection->structure").
    public var stageTransitions: [String: Int] = [:]
    /// Merges started, by cause: `overlay` (met another overlay id), `flag` (a merging
    /// member of ours), `healed` (a contact dropped as dead answered again).
    public var merges: [String: Int] = [:]
    /// Catch-ups after a heal the merge cooldown held back (`DHTNode.catchUp`).
    public var catchUps = 0
    /// Times this node's overlay id changed (joining one, or losing a merge).
    public var overlayChanges = 0
    /// Direct exchange: stores sent again because the member had not acknowledged them.
    public var redeliveries = 0
    /// Direct exchange across NAT: records of bridged members forwarded to other members
    /// (`DHTNode+Bridges`), one per member sent to.
    public var bridgeForwards = 0
}
