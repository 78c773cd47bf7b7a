/// Waiting for the world to settle, without fixed sleeps: ask again every `interval` until
/// the answer is yes or the deadline passes. A thrown error counts as "not yet" (a daemon
/// that is still starting refuses connections) and is reported if the deadline passes.

/// Returns as soon as `condition` holds; throws `TestbedError.pollTimedOut` at `deadline`.
public func poll(
    until deadline: ContinuousClock.Instant,
    every interval: Duration = .milliseconds(100),
    _ what: String = "condition",
    isolation: isolated (any Actor)? = #isolation,
    _ condition: () async throws -> Bool
) async throws {
    _ = try await pollValue(until: deadline, every: interval, what) { try await condition() ? () : nil }
}

/// Returns as soon as `condition` holds; throws `TestbedError.pollTimedOut` after `timeout`.
public func poll(
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(100),
    _ what: String = "condition",
    isolation: isolated (any Actor)? = #isolation,
    _ condition: () async throws -> Bool
) async throws {
    try await poll(until: .now + timeout, every: interval, what, condition)
}

/// Returns the first non-nil value of `probe`; throws `TestbedError.pollTimedOut` at
/// `deadline`.
public func pollValue<T>(
    until deadline: ContinuousClock.Instant,
    every interval: Duration = .milliseconds(100),
    _ what: String = "value",
    isolation: isolated (any Actor)? = #isolation,
    _ probe: () async throws -> T?
) async throws -> T {
    let start = ContinuousClock.now
    var lastError: (any Error)?
    while true {
        try Task.checkCancellation()
        do {
            if let value = try await probe() { return value }
            lastError = nil
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            lastError = error
        }
        let now = ContinuousClock.now
        guard now < deadline else {
            throw TestbedError.pollTimedOut(what: what, after: now - start, lastError: lastError)
        }
        try await Task.sleep(until: min(now + interval, deadline), clock: .continuous)
    }
}

/// Returns the first non-nil value of `probe`; throws after `timeout`.
public func pollValue<T>(
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(100),
    _ what: String = "value",
    isolation: isolated (any Actor)? = #isolation,
    _ probe: () async throws -> T?
) async throws -> T {
    try await pollValue(until: .now + timeout, every: interval, what, probe)
}
