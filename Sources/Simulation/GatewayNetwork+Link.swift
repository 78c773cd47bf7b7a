import DNSSD
import LocalDomain
import Primitives

/// The islands' links: what gateways and devices publish there reaches every gateway of the
/// island `mdnsDelay` later (`SimulatedLink`).
extension GatewayNetwork {
    /// Tells every running gateway of the island about a change, `mdnsDelay` from now.
    func tell(_ island: Int, _ change: SimulatedLink.Change) {
        let viewers = islands[island].gateways.filter { gateways[$0].state == .running }
        guard !viewers.isEmpty else { return }
        simulation.schedule(at: simulation.now + settings.mdnsDelay) { [unowned self] _ in
            for viewer in viewers { self.feed(viewer, .local(SimulatedLink.event(change, for: viewer))) }
        }
    }

    func retract(_ id: ServiceID, by index: Int) {
        let island = gateways[index].island
        if let change = islands[island].link.retract(id, by: index) { tell(island, change) }
    }

    /// Everything the gateway published goes (goodbyes, or Avahi dropping a dead client).
    func withdrawEverything(of index: Int) {
        let island = gateways[index].island
        for key in gateways[index].publications.keys { ledger.withdrawn(key, island: island, gateway: index) }
        gateways[index].publications = [:]
        for id in islands[island].link.publications(of: index) { retract(id, by: index) }
        gateways[index].advert = nil
    }

    static func hostName(of gateway: Int) -> HostName {
        (try? HostName("gateway-\(gateway).local")) ?? .local
    }

    static func address(of node: Int) -> IPAddress {
        guard case .v4(let value) = Simulation.endpoint(of: node).address else { preconditionFailure("nodes listen on IPv4") }
        return .v4(value)
    }
}
