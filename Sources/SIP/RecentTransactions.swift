/// A bounded, time-limited set of transaction keys, oldest evicted first.
struct RecentTransactions: Sendable {
    private var seenAt: [String: ContinuousClock.Instant] = [:]
    private var order: [String] = []
    private var head = 0

    mutating func insert(_ key: String, now: ContinuousClock.Instant, capacity: Int) {
        if seenAt.updateValue(now, forKey: key) == nil { order.append(key) }
        while seenAt.count > capacity, head < order.count {
            seenAt.removeValue(forKey: order[head])
            head += 1
        }
        if head > 1_024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    func contains(_ key: String, now: ContinuousClock.Instant, memory: Duration) -> Bool {
        guard let seen = seenAt[key] else { return false }
        return now - seen <= memory
    }
}
