import Foundation

/// The times a scenario measured over its trials, in seconds. A trial whose recovery never
/// came within the limit counts as infinitely long, so it shows in the maximum (and misses
/// any target) instead of being dropped.
public struct TrialTimes: Equatable, Sendable {
    public private(set) var values: [Double] = []

    public init(_ values: [Double] = []) {
        self.values = values
    }

    /// Adds a trial's time; nil (never) counts as infinity.
    public mutating func append(_ seconds: Double?) {
        values.append(seconds ?? .infinity)
    }

    public var count: Int { values.count }

    /// The longest trial; nil before the first.
    public var max: Double? { values.max() }

    /// The middle trial, or the mean of the two middle ones for an even count; nil before
    /// the first.
    public var median: Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Whether the longest trial is within `bound` (false before the first).
    public func maxIsWithin(_ bound: Double) -> Bool { max.map { $0 <= bound } ?? false }
}

/// Text as the scenarios print it. The wording of `FIGURE` lines predates the Swift port
/// (Python's formatting): lists as `['a', 'b']`, booleans as `True`.
public enum Format {
    /// `2.35 s`, or `n/a` when nothing was measured.
    public static func seconds(_ value: Double?) -> String {
        value.map { "\(fixed($0, 2)) s" } ?? "n/a"
    }

    /// `value` with `digits` decimals (`inf` for infinity).
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    /// `value` with `digits` decimals and a sign: `+0.5`.
    public static func signed(_ value: Double, _ digits: Int) -> String {
        String(format: "%+.\(digits)f", value)
    }

    /// `['a', 'b']`, sorted.
    public static func list<S: Sequence<String>>(_ items: S) -> String {
        "[" + items.sorted().map { "'\($0)'" }.joined(separator: ", ") + "]"
    }

    public static func bool(_ value: Bool) -> String { value ? "True" : "False" }
}

extension Duration {
    /// The duration in seconds, as the figures count.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
