/// Percentiles of a sample (nearest-rank).
public struct Percentiles: Hashable, Sendable, Codable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double

    public init(_ values: [Double]) {
        let s = values.sorted()
        func rank(_ p: Double) -> Double {
            guard !s.isEmpty else { return 0 }
            return s[min(s.count - 1, Swift.max(0, Int((p * Double(s.count)).rounded(.up)) - 1))]
        }
        count = s.count
        p50 = rank(0.5)
        p90 = rank(0.9)
        p99 = rank(0.99)
        max = s.last ?? 0
    }
}
