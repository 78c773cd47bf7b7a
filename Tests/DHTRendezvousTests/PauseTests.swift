import Rendezvous
import Synchronization
import Testing

/// The wait between an engine's rounds, in real time (bounded by deadlines, never by luck).
struct PauseTests {
    @Test func wakeEndsAWaitThatWouldLastAMinute() async throws {
        let pause = Pause()
        let started = ContinuousClock.now
        let done = Mutex(false)
        let waiting = Task {
            await pause.wait(for: .seconds(60))
            done.withLock { $0 = true }
        }
        defer { waiting.cancel() }
        // The waiter may not have stored its sleep yet when the first wake comes: wake until it
        // ends. 30 s of 60: a loaded machine may start the waiter late, never that late.
        let deadline = started + .seconds(30)
        while ContinuousClock.now < deadline, !done.withLock({ $0 }) {
            pause.wake()
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(done.withLock { $0 }, "still waiting after 30 s of wakes")
    }

    @Test func cancellingTheWaiterEndsTheWait() async {
        let pause = Pause()
        let started = ContinuousClock.now
        let waiting = Task { await pause.wait(for: .seconds(60)) }
        waiting.cancel()
        await waiting.value
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func aWakeWhileNobodyWaitsEndsTheNextWaitAtOnce() async {
        let pause = Pause()
        pause.wake()
        let started = ContinuousClock.now
        await pause.wait(for: .seconds(60))
        #expect(ContinuousClock.now - started < .seconds(30))
        let second = ContinuousClock.now
        await pause.wait(for: .milliseconds(200))
        #expect(ContinuousClock.now - second >= .milliseconds(200), "a wake counts for one wait only")
    }

    @Test func withoutAWakeTheWaitLastsItsInterval() async {
        let started = ContinuousClock.now
        await Pause().wait(for: .milliseconds(200))
        #expect(ContinuousClock.now - started >= .milliseconds(200))
    }
}
