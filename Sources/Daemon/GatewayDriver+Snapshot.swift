import Gateway
import GatewayReports

extension GatewayDriver {
    /// Everything the reports read about the gateway, taken at one moment: the machine's
    /// view, the facts it stated lately, and when the driver started.
    public struct Snapshot: Sendable {
        public var view: GatewayView
        public var events: EventLog
        public var started: ContinuousClock.Instant
        /// Imports avahi-daemon refused, tried again meanwhile (`RefusedImports`).
        public var refusedImports: [ImportKey: ImportRefusal] = [:]
        /// Why avahi-daemon refused the gateway's own `_z2z._udp` advert, while it does (tried again meanwhile).
        public var advertRefusal: String?
    }
}
