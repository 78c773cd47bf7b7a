import Faults
import Synchronization
import Testing

/// The wait every scenario is made of, on a clock moved by hand: no test here sleeps.
@Suite struct WaitingTests {
    @Test func returnsTheTimeUntilTheConditionFirstHeld() async throws {
        let clock = ManualClock()
        var asked = 0
        let took = try await waitUntil(10, every: 0.25, clock: clock) {
            asked += 1
            return asked == 3
        }
        #expect(took == 0.5)
        #expect(asked == 3)
    }

    @Test func aConditionAlreadyTrueTakesNoTime() async throws {
        let took = try await waitUntil(10, clock: ManualClock()) { true }
        #expect(took == 0)
    }

    @Test func givesUpOnceMoreThanTheTimeoutPassedAskingOnceAfterTheLastInterval() async throws {
        let clock = ManualClock()
        var asked = 0
        let took = try await waitUntil(1, every: 0.5, clock: clock) {
            asked += 1
            return false
        }
        #expect(took == nil)
        // At 0, 0.5, 1.0 (not more than the timeout yet) and 1.5.
        #expect(asked == 4)
        #expect(clock.now.offset == .milliseconds(1500))
    }

    @Test func aConditionThatHoldsAtTheLastAskIsStillSeen() async throws {
        let clock = ManualClock()
        let took = try await waitUntil(1, every: 0.5, clock: clock) { clock.now.offset >= .milliseconds(1500) }
        #expect(took == 1.5)
    }

    @Test func requireNamesWhatWasWaitedFor() throws {
        #expect(throws: ScenarioFailure("timed out waiting for a leader")) {
            try require(nil as Double?, "a leader")
        }
        #expect(try require(2.0 as Double?, "a leader") == 2.0)
    }
}

/// A clock that moves only when someone sleeps on it: by exactly the time asked for.
final class ManualClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = Mutex(Instant(offset: .zero))

    var now: Instant { current.withLock { $0 } }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        current.withLock { $0 = max($0, deadline) }
    }
}
