/// A point on a node's own monotonic clock, in nanoseconds from an arbitrary origin.
///
/// The core never reads a clock: adapters pass `now` in (the UDP transport uses the
/// event loop's uptime clock, the simulator its virtual clock). Instants of two different
/// nodes are never compared, which is why records travel with a relative TTL.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static let zero = Instant(nanoseconds: 0)

    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    public static func + (a: Instant, d: Interval) -> Instant {
        Instant(nanoseconds: a.nanoseconds &+ d.nanoseconds)
    }

    /// The time from `earlier` to `self`, or zero when `earlier` is later.
    public func since(_ earlier: Instant) -> Interval {
        Interval(nanoseconds: nanoseconds >= earlier.nanoseconds ? nanoseconds - earlier.nanoseconds : 0)
    }

    public var seconds: Double { Double(nanoseconds) / 1e9 }
    public var description: String { "t=\(seconds)s" }
}

/// A non-negative span of time in nanoseconds.
public struct Interval: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static func seconds(_ s: Double) -> Interval { Interval(nanoseconds: UInt64(max(0, s) * 1e9)) }
    public static func milliseconds(_ ms: Double) -> Interval { Interval(nanoseconds: UInt64(max(0, ms) * 1e6)) }
    public static func minutes(_ m: Double) -> Interval { .seconds(m * 60) }
    public static let zero = Interval(nanoseconds: 0)

    public static func < (a: Interval, b: Interval) -> Bool { a.nanoseconds < b.nanoseconds }
    public static func + (a: Interval, b: Interval) -> Interval { Interval(nanoseconds: a.nanoseconds &+ b.nanoseconds) }
    public static func * (a: Interval, f: Double) -> Interval { .seconds(a.seconds * f) }

    public var seconds: Double { Double(nanoseconds) / 1e9 }
    public var description: String { "\(seconds)s" }

    /// `self` scaled by a uniformly random factor in `[1 - spread, 1 + spread]`, so that
    /// timers of many nodes started together do not fire together.
    public func jittered(_ spread: Double, using rng: inout some RandomNumberGenerator) -> Interval {
        self * Double.random(in: (1 - spread)...(1 + spread), using: &rng)
    }
}

// Swift's `Duration` at the edges (clocks, sleeps), `Instant` and `Interval` in the cores.
extension Interval {
    /// `duration`, zero when negative, to the nanosecond.
    public init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(nanoseconds: UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds)) / 1_000_000_000)
    }
}

extension Duration {
    public init(_ interval: Interval) { self = .nanoseconds(Int64(clamping: interval.nanoseconds)) }
}

extension Instant {
    /// `elapsed` after the origin of an adapter's clock (the instant it started).
    public init(elapsed: Duration) { self.init(nanoseconds: Interval(elapsed).nanoseconds) }
}
