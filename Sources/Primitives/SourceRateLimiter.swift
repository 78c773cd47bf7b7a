/// Token buckets per source and one for all sources, with a bounded table: when it is
/// full, buckets that have refilled (idle sources) are forgotten, and if none has, new
/// sources share one overflow bucket — a flood of forged source addresses cannot grow
/// memory, and is still capped by the total bucket. A pure value: time comes in as `now`.
///
/// The DHT meters inbound datagrams with it (`InboundRateLimiter`), the SIP service its UDP
/// answers (a spoofed source must not turn the gateway into an amplifier).
public struct SourceRateLimiter<Source: Hashable & Sendable>: Sendable {
    public struct Rates: Hashable, Sendable {
        public var perSource: Double
        public var sourceBurst: Double
        public var total: Double
        public var totalBurst: Double
        /// Sources with a bucket of their own at most.
        public var sources: Int

        public init(perSource: Double, sourceBurst: Double, total: Double, totalBurst: Double, sources: Int) {
            self.perSource = perSource
            self.sourceBurst = sourceBurst
            self.total = total
            self.totalBurst = totalBurst
            self.sources = sources
        }
    }

    public enum Verdict: Hashable, Sendable {
        case admitted, sourceLimited, totalLimited
    }

    struct Bucket: Sendable {
        var tokens: Double
        var updated: Instant

        /// Refills at `rate` up to `burst`, then takes one token if there is one.
        mutating func take(rate: Double, burst: Double, now: Instant) -> Bool {
            let elapsed = max(0, now.since(updated).seconds)
            tokens = min(burst, tokens + elapsed * rate)
            updated = max(updated, now)
            guard tokens >= 1 else { return false }
            tokens -= 1
            return true
        }

        func isFull(rate: Double, burst: Double, now: Instant) -> Bool {
            tokens + max(0, now.since(updated).seconds) * rate >= burst
        }
    }

    public let rates: Rates
    /// nil: the overflow bucket shared by sources that found the table full.
    var buckets: [Source?: Bucket] = [:]
    var total: Bucket

    public init(_ rates: Rates) {
        self.rates = rates
        total = Bucket(tokens: rates.totalBurst, updated: .zero)
    }

    /// Sources with a bucket now (bounded by `rates.sources` + 1).
    public var trackedSources: Int { buckets.count }

    public mutating func admit(_ source: Source, now: Instant) -> Verdict {
        var key: Source? = source
        if buckets[key] == nil, buckets.count >= rates.sources {
            let (rate, burst) = (rates.perSource, rates.sourceBurst)
            buckets = buckets.filter { !$0.value.isFull(rate: rate, burst: burst, now: now) }
            if buckets.count >= rates.sources { key = nil }
        }
        var bucket = buckets[key] ?? Bucket(tokens: rates.sourceBurst, updated: now)
        let admitted = bucket.take(rate: rates.perSource, burst: rates.sourceBurst, now: now)
        buckets[key] = bucket
        guard admitted else { return .sourceLimited }
        guard total.take(rate: rates.total, burst: rates.totalBurst, now: now) else { return .totalLimited }
        return .admitted
    }
}
