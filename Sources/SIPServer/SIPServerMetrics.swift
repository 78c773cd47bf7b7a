import SIP
import Synchronization

/// Counters of one SIP server: responses by status code, rejections by reason, lookups.
///
/// The labels are the `reason` strings of `SIPRejection`, so the metric, the log line and the
/// `400` reason phrase name a broken message the same way. Safe to read from any thread.
public final class SIPServerMetrics: Sendable {
    /// A consistent copy of all counters.
    public struct Snapshot: Hashable, Sendable {
        /// Responses sent, by status code.
        public var responses: [Int: Int] = [:]
        /// Messages refused or answered with 400/505/503, by `SIPRejection.reason`.
        public var rejections: [String: Int] = [:]
        /// ACKs received (absorbed without response, as RFC 3261 wants).
        public var acknowledgements = 0
        public var lookupsStarted = 0
        public var lookupsFinished = 0
        public var connectionsAccepted = 0
        public var connectionsRefused = 0
        /// Requests forwarded and responses relayed (proxy role), and those with no usable hop.
        public var forwarded = 0
        public var forwardFailures = 0
        /// REGISTERs accepted, and refused by reason.
        public var registrations = 0
        public var registrationRefusals: [String: Int] = [:]
        /// OPTIONS probes sent to contacts, and answers received.
        public var probesSent = 0
        public var probeAnswers = 0
        /// UDP answers not sent: their source had used up its rate (`udpRepliesPerSecondPerSource`).
        public var repliesRateLimited = 0

        public var lookupsInFlight: Int { lookupsStarted - lookupsFinished }
        public var totalResponses: Int { responses.values.reduce(0, +) }
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public func snapshot() -> Snapshot { state.withLock { $0 } }

    func responded(_ status: Int) { state.withLock { $0.responses[status, default: 0] += 1 } }
    func rejected(_ rejection: SIPRejection) { state.withLock { $0.rejections[rejection.reason, default: 0] += 1 } }
    func acknowledged() { state.withLock { $0.acknowledgements += 1 } }
    func connectionAccepted() { state.withLock { $0.connectionsAccepted += 1 } }
    func connectionRefused() { state.withLock { $0.connectionsRefused += 1 } }
    func forwarded() { state.withLock { $0.forwarded += 1 } }
    func probed() { state.withLock { $0.probesSent += 1 } }
    func probeAnswered() { state.withLock { $0.probeAnswers += 1 } }
    func replyRateLimited() { state.withLock { $0.repliesRateLimited += 1 } }
    func forwardFailed() { state.withLock { $0.forwardFailures += 1 } }
    func registration(refusal: String?) {
        state.withLock { state in
            if let refusal { state.registrationRefusals[refusal, default: 0] += 1 } else { state.registrations += 1 }
        }
    }

    /// Admits a lookup when fewer than `limit` are in flight.
    func startLookup(limit: Int) -> Bool {
        state.withLock { state in
            guard state.lookupsInFlight < limit else { return false }
            state.lookupsStarted += 1
            return true
        }
    }

    func finishLookup() { state.withLock { $0.lookupsFinished += 1 } }
}
