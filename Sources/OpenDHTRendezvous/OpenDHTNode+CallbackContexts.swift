import Synchronization

/// What OpenDHT's callbacks get back as their context, on OpenDHT's threads: the
/// `Operation` a get, put or shutdown waits on, and a listen's `ListenSink`. (The pointers
/// OpenDHT hands out stay in `OpenDHTNode.swift`.)
extension OpenDHTNode {
    /// A get, put or shutdown waiting for OpenDHT's done callback; completes once.
    final class Operation: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Bool, Never>?
            var result: Bool?
            var timedOut = false
            var values: [OpenDHTNode.Value] = []
        }

        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<Bool, Never>) {
            let early = state.withLock { state -> Bool? in
                if let result = state.result { return result }
                state.continuation = continuation
                return nil
            }
            if let early { continuation.resume(returning: early) }
        }

        func collect(_ value: OpenDHTNode.Value) { state.withLock { $0.values.append(value) } }

        /// Completes it as failed and timed out after `limit`, unless it completed before (the
        /// caller cancels the returned task then).
        func expire(after limit: Duration) -> Task<Void, Never> {
            Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                let expired = state.withLock { state in
                    guard state.result == nil else { return false }
                    state.timedOut = true
                    return true
                }
                if expired { complete(ok: false) }
            }
        }

        var timedOut: Bool { state.withLock { $0.timedOut } }

        var values: [OpenDHTNode.Value] { state.withLock { $0.values } }

        func complete(ok: Bool) {
            let continuation = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard state.result == nil else { return nil }
                state.result = ok
                defer { state.continuation = nil }
                return state.continuation
            }
            continuation?.resume(returning: ok)
        }
    }

    /// Where a listen's callbacks go.
    final class ListenSink: Sendable {
        let handler: @Sendable (OpenDHTNode.ListenEvent) -> Void
        init(_ handler: @escaping @Sendable (OpenDHTNode.ListenEvent) -> Void) { self.handler = handler }
    }
}
