/// Why a scenario stopped before its end: something it needed never happened.
public struct ScenarioFailure: Error, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    /// What `require` throws at the deadline.
    public static func timedOut(waitingFor what: String) -> ScenarioFailure {
        ScenarioFailure("timed out waiting for \(what)")
    }
}

/// Why this machine cannot run a scenario (exit status 77).
public struct Unsupported: Error, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The wait every scenario is made of: how long until `condition` held, asked every
/// `interval`; nil once more than `timeout` passed without it. The condition is asked once
/// more after the last interval, so a wait of 0 s still asks once. Time comes from `clock`,
/// so a test moves it by hand.
public func waitUntil<C: Clock>(
    _ timeout: Double, every interval: Double = 0.1, clock: C,
    _ condition: () async -> Bool
) async throws -> Double? where C.Duration == Duration {
    let start = clock.now
    while true {
        if await condition() { return start.duration(to: clock.now).seconds }
        if start.duration(to: clock.now).seconds > timeout { return nil }
        try await clock.sleep(for: .milliseconds(Int64((interval * 1000).rounded())))
    }
}

/// `waitUntil` on the real clock.
public func waitUntil(
    _ timeout: Double, every interval: Double = 0.1, _ condition: () async -> Bool
) async throws -> Double? {
    try await waitUntil(timeout, every: interval, clock: ContinuousClock(), condition)
}

/// The value of a wait the scenario cannot go on without; throws `ScenarioFailure` naming
/// `what` when the wait ended without it.
@discardableResult
public func require<T>(_ value: T?, _ what: String) throws -> T {
    guard let value else { throw ScenarioFailure.timedOut(waitingFor: what) }
    return value
}
