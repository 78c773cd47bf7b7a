import DNSSD
import Testbed

/// The goodbyes a stopping gateway sent for its imports: for each expected instance, the
/// delay from the stop to the first goodbye for it (a later repetition does not count).
public struct GoodbyeTally: Equatable, Sendable {
    /// Seconds from the stop to the first goodbye, by instance name.
    public private(set) var delays: [String: Double] = [:]

    /// Goodbyes for instances of `type` named in `names`, heard at or after `stoppedAt`
    /// (CLOCK_MONOTONIC seconds, as the listener stamps them).
    public init(_ heard: [GoodbyeListener.Goodbye], names: Set<String>, type: String, stoppedAt: Double) {
        for goodbye in heard where goodbye.at >= stoppedAt && goodbye.service.type.description == type {
            let name = goodbye.service.name.value
            if names.contains(name), delays[name] == nil { delays[name] = goodbye.at - stoppedAt }
        }
    }

    /// How many instances got a goodbye within `seconds` of the stop.
    public func count(within seconds: Double) -> Int { delays.values.count { $0 <= seconds } }

    /// The delay of the last first goodbye; nil when none was heard.
    public var last: Double? { delays.values.max() }
}
