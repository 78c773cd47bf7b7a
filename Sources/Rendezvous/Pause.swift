import Synchronization

/// A wait between an engine's maintenance rounds that another thread can cut short: the
/// engine's loop calls `wait(for:)`, and `join()` or `addSeeds()` call `wake()` so the next
/// round starts at once. Cancelling the waiting task ends the wait too.
///
/// A wake that comes while nobody waits (the loop is in a round, or between deciding how
/// long to wait and starting to) is kept for the next wait, which then returns at once:
/// otherwise a join during a round would wait a whole interval.
public final class Pause: Sendable {
    private struct State {
        var sleep: Task<Void, any Error>?
        var woken = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Returns after `interval`, on `wake()` (also one that came since the last wait), or
    /// when the calling task is cancelled.
    public func wait(for interval: Duration) async {
        let sleep = Task { try await Task.sleep(for: interval) }
        let woken = state.withLock { state in
            defer { state.woken = false }
            if !state.woken { state.sleep = sleep }
            return state.woken
        }
        if woken { sleep.cancel() }
        await withTaskCancellationHandler {
            _ = await sleep.result
        } onCancel: {
            sleep.cancel()
        }
        state.withLock { state in
            if state.sleep == sleep { state.sleep = nil }
        }
    }

    /// Ends the current wait, or the next one if nobody waits now.
    public func wake() {
        state.withLock { state in
            if let sleep = state.sleep {
                sleep.cancel()
                state.sleep = nil
            } else {
                state.woken = true
            }
        }
    }
}
