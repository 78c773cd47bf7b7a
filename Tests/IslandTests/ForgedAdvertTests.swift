@testable import Island
import Primitives
import Testing

/// An advert carries no tag: anyone on the link can publish one naming any address. Until a
/// tagged heartbeat comes back from there, the address gets a few datagrams, not one per beat
/// (issue 18, point 6: 33 datagrams in 20 s before).
struct ForgedAdvertTests {
    static let forged = Endpoint(ipv4: 192, 0, 2, 66, port: 7400)

    /// Heartbeats one election sends to `endpoint` while running for `duration` on virtual time.
    static func beats(to endpoint: Endpoint, over duration: Interval, answered: Bool) -> Int {
        var election = Election(id: ElectionHarness.nodeID(0), network: ElectionHarness.network, priority: 10, port: 7400,
                                island: nil, seed: 1)
        var now = Instant.zero
        let peer = ElectionHarness.nodeID(9)
        var sent = election.handle(.advertised(peer, endpoint, priority: 5), now: now)
        if answered {
            let beat = Heartbeat(network: ElectionHarness.network, sender: peer, priority: 5, role: .candidate, island: nil,
                                 leader: nil, term: 0, sequence: 1, port: 7400)
            sent += election.handle(.heartbeat(beat, from: endpoint), now: now)
        }
        let end = now + duration
        while let deadline = election.nextDeadline, deadline <= end {
            now = max(now, deadline)
            sent += election.handle(.tick, now: now)
            if answered, case let beat = Heartbeat(network: ElectionHarness.network, sender: peer, priority: 5, role: .follower,
                                                   island: election.island, leader: election.leader, term: election.term,
                                                   sequence: 2, port: 7400) {
                sent += election.handle(.heartbeat(beat, from: endpoint), now: now) // it keeps answering
            }
        }
        return sent.filter { if case .send(_, let to) = $0 { to == endpoint } else { false } }.count
    }

    @Test func aForgedAdvertsAddressGetsAFewHeartbeatsNotOnePerBeat() {
        let forged = Self.beats(to: Self.forged, over: .seconds(20), answered: false)
        let real = Self.beats(to: Self.forged, over: .seconds(20), answered: true)
        #expect(forged <= 7, "\(forged) heartbeats to an address nobody answers from")
        #expect(forged >= 2) // the greeting and at least one more try (a lost first datagram)
        #expect(real >= 18, "a gateway that answers gets every beat (\(real))")
    }

    @Test func anAddressThatNeverAnswersStillHearsFromUsNowAndThen() {
        let hour = Self.beats(to: Self.forged, over: .seconds(3_600), answered: false)
        #expect(hour > 50 && hour < 80, "\(hour) in an hour: every 64th beat after the backoff")
    }
}
