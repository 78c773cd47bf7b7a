import Primitives

/// An iterative lookup of the k contacts closest to a target (paper §2.3), as a state
/// machine fed with responses and failures: `nextQueries` says whom to ask (at most
/// `alpha` outstanding), `succeeded`/`failed` feed results back, `isFinished` says when the
/// k closest non-failed candidates have all answered.
///
/// Candidates are kept sorted by distance; a candidate learned from a response is one hop
/// further than the node that named it, so `hops` of the result says how many rounds of
/// requests led to the closest node. Late responses from timed-out candidates are still
/// taken (the paper's "unresponsive" nodes may answer).
public struct Lookup: Sendable {
    public enum State: Sendable { case notContacted, inFlight, succeeded, failed }

    public struct Candidate: Sendable {
        public var contact: Contact
        public var distance: Distance
        public var state: State
        public var hop: Int
        /// Requests sent to this candidate (a timed-out one is asked again, see `failed`).
        public var attempts = 0
    }

    /// Limits a lookup to candidates within `radius` of `center` (a neighbourhood check
    /// around a neighbour only cares about nodes that would be our own k closest).
    public struct Scope: Sendable {
        public var center: NodeID
        public var radius: Distance
        public init(center: NodeID, radius: Distance) {
            self.center = center
            self.radius = radius
        }
    }

    public let target: NodeID
    public let scope: Scope?
    public let k: Int
    public let alpha: Int
    public private(set) var candidates: [Candidate] = []
    public private(set) var inFlight = 0
    /// Requests sent so far.
    public private(set) var queries = 0
    /// Responses in a row that named nobody closer than the closest known; after `alpha`
    /// of them the lookup is stalled and asks all of the k closest not yet asked at once
    /// (paper §2.3).
    private var unproductive = 0
    private var stalled: Bool { unproductive >= alpha }
    private let excluded: NodeID

    /// - Parameters:
    ///   - excluding: the local id, never a candidate.
    ///   - presumedAlive: seeds counted as already answered (a neighbourhood refresh asks
    ///     only a few of its neighbours, then whoever they name).
    public init(
        target: NodeID, k: Int, alpha: Int, seeds: [Contact], excluding: NodeID,
        presumedAlive: Set<NodeID> = [], scope: Scope? = nil
    ) {
        self.target = target
        self.scope = scope
        self.k = k
        self.alpha = alpha
        self.excluded = excluding
        add(seeds, hop: 1)
        for i in candidates.indices where presumedAlive.contains(candidates[i].contact.id) {
            candidates[i].state = .succeeded
        }
    }

    /// Adds contacts named by a response (or seeds); duplicates and the local id are ignored.
    public mutating func add(_ contacts: [Contact], hop: Int) {
        for c in contacts where c.id != excluded {
            if let scope, c.id.distance(to: scope.center) > scope.radius { continue }
            let d = c.id.distance(to: target)
            var lo = 0, hi = candidates.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if candidates[mid].distance < d { lo = mid + 1 } else { hi = mid }
            }
            if lo < candidates.count, candidates[lo].distance == d { continue }
            candidates.insert(Candidate(contact: c, distance: d, state: .notContacted, hop: hop), at: lo)
        }
        // Far candidates that were never asked are dead weight.
        let cap = 3 * k
        while candidates.count > cap, let last = candidates.last, last.state == .notContacted || last.state == .failed {
            candidates.removeLast()
        }
    }

    /// Whom to ask next, marking them in flight.
    public mutating func nextQueries() -> [Contact] {
        var out: [Contact] = []
        var live = 0
        let parallelism = stalled ? k : alpha
        for i in candidates.indices {
            guard inFlight < parallelism else { break }
            switch candidates[i].state {
            case .failed: continue
            case .notContacted:
                candidates[i].state = .inFlight
                candidates[i].attempts += 1
                inFlight += 1
                queries += 1
                out.append(candidates[i].contact)
            case .inFlight, .succeeded: break
            }
            live += 1
            if live >= k { break }
        }
        return out
    }

    public mutating func succeeded(_ id: NodeID, closer: [Contact]) {
        guard let i = index(of: id) else { return }
        if candidates[i].state == .inFlight { inFlight -= 1 }
        candidates[i].state = .succeeded
        let best = candidates.first?.distance
        add(closer, hop: candidates[i].hop + 1)
        if let best, let now = candidates.first?.distance, now < best { unproductive = 0 } else { unproductive += 1 }
    }

    /// A request went unanswered. The candidate is asked again before it counts as failed:
    /// one lost datagram should not drop the closest node from the result. The closest
    /// `closeCandidates` still in the running get `maxAttemptsClose` requests, the others
    /// `maxAttempts`: the answer is right only if the closest nodes answer, and at 20 %
    /// loss a request and its answer both arrive with probability 0.64, so two attempts
    /// lose a closest node 0.36² ≈ 13 % of the time and four 0.36⁴ ≈ 1.7 %. Farther
    /// candidates have others to stand in for them, and a dead node costs its extra
    /// timeouts only when it is among the closest few.
    public mutating func failed(_ id: NodeID) {
        guard let i = index(of: id), candidates[i].state == .inFlight else { return }
        inFlight -= 1
        let rank = candidates[..<i].lazy.filter { $0.state != .failed }.count
        let limit = rank < Self.closeCandidates ? Self.maxAttemptsClose : Self.maxAttempts
        candidates[i].state = candidates[i].attempts < limit ? .notContacted : .failed
    }

    public static let maxAttempts = 2
    public static let maxAttemptsClose = 4
    public static let closeCandidates = 3

    /// The k closest candidates that did not fail have all answered (or none is left).
    public var isFinished: Bool {
        var live = 0
        for c in candidates where c.state != .failed {
            if c.state != .succeeded { return false }
            live += 1
            if live >= k { return true }
        }
        return inFlight == 0
    }

    /// The closest candidates that answered, closest first, at most k.
    public var closest: [Contact] {
        Array(candidates.lazy.filter { $0.state == .succeeded }.prefix(k).map(\.contact))
    }

    /// Rounds of requests that led to the closest answering node (0 if none answered).
    public var hops: Int {
        candidates.first { $0.state == .succeeded }?.hop ?? 0
    }

    private func index(of id: NodeID) -> Int? {
        let d = id.distance(to: target)
        var lo = 0, hi = candidates.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if candidates[mid].distance < d { lo = mid + 1 } else { hi = mid }
        }
        return lo < candidates.count && candidates[lo].distance == d ? lo : nil
    }
}
