import Primitives
import Testing

struct BackoffTests {
    @Test func theWaitDoublesFromTheFirstAndStopsAtTheMaximum() {
        let backoff = Backoff(first: .seconds(1), maximum: .seconds(30))
        #expect((0...8).map { backoff.delay(afterAttempts: $0) }
            == [1, 1, 2, 4, 8, 16, 30, 30, 30].map { Duration.seconds($0) })
    }

    @Test func aMaximumBelowTheFirstWaitIsTheFirstWait() {
        let backoff = Backoff(first: .seconds(5), maximum: .seconds(1))
        #expect(backoff.delay(afterAttempts: 1) == .seconds(5))
        #expect(backoff.delay(afterAttempts: 10) == .seconds(5))
    }

    @Test func manyAttemptsDoNotOverflow() {
        #expect(Backoff(first: .milliseconds(1), maximum: .seconds(60)).delay(afterAttempts: .max) == .seconds(60))
    }

    @Test func durationsBecomeIntervalsAndInstantsToTheNanosecond() {
        #expect(Interval(.milliseconds(1_500)) == .milliseconds(1_500))
        #expect(Interval(.seconds(-3)) == .zero)
        #expect(Duration(Interval(nanoseconds: 7)) == .nanoseconds(7))
        #expect(Instant(elapsed: .seconds(2)) == Instant(nanoseconds: 2_000_000_000))
    }
}
