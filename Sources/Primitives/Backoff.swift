/// A doubling backoff: the wait after the first failed attempt is `first`, each next one
/// twice as long, never more than `maximum`. Pure: callers keep the attempt counts and the
/// clock (put retries, refused imports, failed resolvers).
public struct Backoff: Hashable, Sendable {
    public let first: Duration
    public let maximum: Duration

    public init(first: Duration, maximum: Duration) {
        self.first = first
        self.maximum = max(first, maximum)
    }

    /// The wait after `attempts` failed attempts (1 or fewer: `first`).
    public func delay(afterAttempts attempts: Int) -> Duration {
        guard first > .zero else { return .zero }
        var delay = first
        var attempt = 1
        while attempt < attempts, delay < maximum {
            delay *= 2
            attempt += 1
        }
        return min(delay, maximum)
    }
}
