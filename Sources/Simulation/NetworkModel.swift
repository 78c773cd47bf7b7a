import Primitives

/// How the simulated network carries datagrams: a fixed one-way latency per link drawn
/// from `linkLatency` (reproducible from the run's seed and the two endpoints), per-datagram
/// jitter, independent loss, and partitions.
public struct NetworkModel: Sendable {
    /// One-way base latency of a link, uniform in this range, in milliseconds.
    public var linkLatency: ClosedRange<Double> = 10...100
    /// Mean of the exponential per-datagram jitter, in milliseconds.
    public var jitterMean: Double = 2
    /// Probability that a datagram is lost.
    public var loss: Double = 0
    /// Bytes the IP and UDP headers add to each datagram (IPv4: 20 + 8).
    public var headerBytes = 28

    public init(linkLatency: ClosedRange<Double> = 10...100, jitterMean: Double = 2, loss: Double = 0) {
        self.linkLatency = linkLatency
        self.jitterMean = jitterMean
        self.loss = loss
    }

    /// The base latency of the link between two nodes (symmetric).
    func baseLatency(_ a: Int, _ b: Int, seed: UInt64) -> Double {
        var mix = SplitMix64(state: seed ^ UInt64(min(a, b)) &* 0x9E37_79B9 ^ UInt64(max(a, b)) << 32)
        let unit = Double(mix.next() >> 11) / Double(1 << 53)
        return linkLatency.lowerBound + unit * (linkLatency.upperBound - linkLatency.lowerBound)
    }
}

/// Datagrams and bytes carried (or dropped) so far; bytes include `headerBytes`.
public struct Traffic: Hashable, Sendable {
    public var datagrams = 0
    public var bytes = 0
    public var lost = 0
    /// Delivered to a node that was no longer alive, or across a partition.
    public var undeliverable = 0

    public static func - (a: Traffic, b: Traffic) -> Traffic {
        Traffic(datagrams: a.datagrams - b.datagrams, bytes: a.bytes - b.bytes, lost: a.lost - b.lost, undeliverable: a.undeliverable - b.undeliverable)
    }
}
