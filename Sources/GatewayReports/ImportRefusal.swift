import Foundation

/// An import avahi-daemon refused to publish (its `objects-per-client-max`, `clients-max`,
/// or another error), as the reports show it while the driver keeps trying it again: the
/// import counts as received, not as published on the link.
public struct ImportRefusal: Hashable, Sendable {
    /// avahi-daemon's words for the last refusal ("Too many clients", ...).
    public var reason: String
    /// Attempts so far (the first publish included).
    public var attempts: Int
    /// Seconds until the next attempt.
    public var retryInSeconds: Double

    public init(reason: String, attempts: Int, retryInSeconds: Double) {
        self.reason = reason
        self.attempts = attempts
        self.retryInSeconds = retryInSeconds
    }

    /// One line for `explain`, `services` and health reasons.
    public var summary: String {
        let next = String(format: "%.0f", retryInSeconds.rounded(.up))
        return "refused by avahi-daemon (\(reason)); \(attempts) attempt\(attempts == 1 ? "" : "s"), next in \(next) s"
    }
}
