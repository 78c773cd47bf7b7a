import Kademlia

/// Remembers verification results per record, shared by every node of one simulation:
/// each record is verified once however many of the 10,000 nodes see it. Only for the
/// simulator; real nodes and tests verify every time (`Ed25519Verifier`).
public final class CachingVerifier: RecordVerifier, @unchecked Sendable {
    // Unchecked: a simulation runs on one thread; the cache is never shared across threads.
    private var results: [Record: RecordRejection?] = [:]
    private let inner = Ed25519Verifier()
    public private(set) var verifications = 0

    public init() {}

    public func check(_ record: Record) -> RecordRejection? {
        if let cached = results[record] { return cached }
        verifications += 1
        let result = inner.check(record)
        results[record] = result
        return result
    }
}
