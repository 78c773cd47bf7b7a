/// When an import's traffic goes through the leaders' relay instead of to the service's own
/// addresses (`[relay] mode`, issue 14): how services cross, beside the policy's whether. The
/// decision is `RelayDecision` (Gateway); the tunnel itself is `Sources/Relay`.
public enum RelayMode: String, Hashable, Sendable, CaseIterable {
    /// Relay only what the importing island cannot reach by the service's own addresses.
    case auto
    /// Relay every import the exporting leader offers a relay for.
    case always
    /// Never relay: an import carries the service's own addresses, as before the relay.
    case off
}
