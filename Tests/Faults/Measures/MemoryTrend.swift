/// One sample of a long-running gateway: resident memory and open descriptors, as read
/// from /proc (nil when the process was gone at that moment).
public struct ResourceSample: Equatable, Sendable {
    /// Seconds since the soak began.
    public var at: Double
    public var rssKiB: Int?
    public var descriptors: Int?

    public init(at: Double, rssKiB: Int?, descriptors: Int?) {
        self.at = at
        self.rssKiB = rssKiB
        self.descriptors = descriptors
    }
}

/// What the soak concludes from one gateway's samples after the warm-up: memory grows by
/// at most 5 %, descriptors stay flat. Growth compares the first sample after the warm-up
/// with the median of the last three, so one sample caught during a burst does not decide.
public struct MemoryTrend: Equatable, Sendable {
    public var rss: [Int]
    public var descriptors: [Int]

    /// The samples taken at or after `warmup` seconds; nil with fewer than two memory
    /// readings or no descriptor reading there.
    public init?(_ samples: [ResourceSample], warmup: Double) {
        let warm = samples.filter { $0.at >= warmup }
        rss = warm.compactMap(\.rssKiB).filter { $0 > 0 }
        descriptors = warm.compactMap(\.descriptors).filter { $0 > 0 }
        guard rss.count >= 2, !descriptors.isEmpty else { return nil }
    }

    /// KiB at the end of the warm-up.
    public var base: Int { rss[0] }

    /// KiB at the end: the median of the last three samples.
    public var last: Double {
        let tail = rss.suffix(3).sorted()
        let middle = tail.count / 2
        return tail.count % 2 == 1 ? Double(tail[middle]) : Double(tail[middle - 1] + tail[middle]) / 2
    }

    /// Growth from `base` to `last`, as a fraction (0.05 is 5 %).
    public var growth: Double { (last - Double(base)) / Double(base) }

    public var growthIsWithinTarget: Bool { growth <= 0.05 }

    /// Flat: the last count at most two above the first (a reconnect in flight may hold two).
    public var descriptorsAreFlat: Bool { descriptors.last! <= descriptors[0] + 2 }
}
