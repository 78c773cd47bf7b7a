import Synchronization

/// A wait between an engine's maintenance rounds that another thread can cut short: the
/// engine's loop calls `wait(for:)`, and `join()` or `addSeeds()` call `wake()` so the next
/// round starts at once. Cancelling the waiting task ends the wait too.
public final class Pause: Sendable {
    private let current = Mutex<Task<Void, any Error>?>(nil)

    public init() {}

    /// Returns after `interval`, on `wake()`, or when the calling task is cancelled.
    public func wait(for interval: Duration) async {
        let sleep = Task { try await Task.sleep(for: interval) }
        current.withLock { $0 = sleep }
        await withTaskCancellationHandler {
            _ = await sleep.result
        } onCancel: {
            sleep.cancel()
        }
    }

    /// Ends the current wait, if any.
    public func wake() { current.withLock { $0?.cancel() } }
}
