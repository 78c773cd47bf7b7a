/// The protocol's parameters. Defaults follow the paper where it gives one (k = 20,
/// α = 3, refresh after an idle hour) and are chosen for low idle traffic elsewhere.
public struct Configuration: Sendable {
    public var network: NetworkID
    /// Set by the overlay-merging work; carried in every header when present.
    public var overlay: UInt64? = nil
    public var k = 20
    public var alpha = 3
    /// Longest wait for an answer; the actual timeout follows the measured round-trip
    /// time (smoothed RTT + 4 × variation), between `minimumRequestTimeout` and this.
    public var requestTimeout: Interval = .seconds(1)
    public var minimumRequestTimeout: Interval = .milliseconds(250)
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
    /// Own records are republished after this fraction of their lifetime.
    public var republishFraction = 0.5
    public var subscriptionLease: UInt32 = 600
    public var subscriptionReplicas = 4
    public var subscriptionRelookupInterval: Interval = .minutes(30)
    public var limits = Limits.default

    public init(network: NetworkID) { self.network = network }
}
