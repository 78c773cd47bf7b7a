/// What a relay has done, for metrics and `status`: refusals by reason, and per service
/// the streams and bytes it carried. A value: read it, never mutate it to act.
public struct RelayReport: Hashable, Sendable {
    /// Every refusal so far, by reason (`RelayRefusal.reason` is the metric label).
    public var refusals: [RelayRefusal: Int] = [:]
    /// Streams ended, by how they ended.
    public var endings: [StreamEnding: Int] = [:]
    /// Per service (any transport counts under its own `ServiceRef`).
    public var services: [ServiceRef: ServiceTraffic] = [:]

    public init() {}

    public func refusals(_ reason: RelayRefusal) -> Int { refusals[reason, default: 0] }
}

/// One service's relayed traffic. "To the service" is the direction from the importing
/// island's client to the exporting island's service.
public struct ServiceTraffic: Hashable, Sendable {
    /// Streams accepted since start.
    public var streams = 0
    /// Streams open now.
    public var open = 0
    public var bytesToService: UInt64 = 0
    public var bytesFromService: UInt64 = 0

    public init() {}
}

/// How an accepted stream ended; the raw value is the metric label.
public enum StreamEnding: String, Hashable, Sendable, CaseIterable {
    /// Either end closed it, or the tunnel under it dropped.
    case closed
    /// Nothing moved for the idle timeout.
    case idleTimeout = "idle_timeout"
    /// The service was revoked, or its listener closed.
    case revoked
}
