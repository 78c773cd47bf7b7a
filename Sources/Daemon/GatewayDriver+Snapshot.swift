import DNSSD
import Gateway
import Island
import LocalDomain

extension GatewayDriver {
    /// Everything the API reports about the gateway, read at one moment.
    public struct Snapshot: Sendable {
        public var machine: GatewayMachine
        public var counters: [String: Int]
        public var connection: ConnectionState
        public var transitions: [Election.Transition]
        public var localServices: [ServiceID: DiscoveredService]
        public var started: ContinuousClock.Instant
        public var eventLog: EventLog
    }

    public func snapshot() -> Snapshot {
        Snapshot(machine: machine, counters: counters, connection: connection, transitions: transitions,
                 localServices: localServices, started: started, eventLog: eventLog)
    }
}
