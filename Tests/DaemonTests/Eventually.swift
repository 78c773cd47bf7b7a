import Testing

/// Polls `probe` every 20 ms until it returns a value, failing after `timeout`.
func eventually<T: Sendable>(_ what: String, timeout: Duration = .seconds(10), _ probe: () async -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = await probe() { return value }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}
