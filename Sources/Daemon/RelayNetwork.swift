import DNSSD
import Gateway
import LocalDomain
import NIOCore
import Primitives
import Transport

/// This gateway's side of the relay as its network interfaces say (issue 14), pure: its LAN
/// (the interfaces its own advert is seen on, where avahi-daemon runs) gives the prefixes
/// for the overlap check and the addresses relayed imports are published and listened on;
/// every other interface (an uplink, a WAN cable) is where other leaders are likelier to
/// dial its relay, and comes first in the offer (an importer tries them all at once).
struct RelayNetwork: Hashable, Sendable {
    /// One address of one interface, as `getifaddrs` reports it.
    struct InterfaceAddress: Hashable, Sendable {
        var interface: InterfaceIndex
        var address: IPAddress
        var prefixLength: Int
    }

    var prefixes: [IPPrefix] = []
    /// Where relayed imports are published and their listeners bound: the LAN's IPv4
    /// addresses (link-local ones included: on a link-local-only island they are all there
    /// is) and its routable IPv6 ones. IPv6 link-local addresses need a scope the
    /// publication cannot carry, so they are left out.
    var addresses: [IPAddress] = []
    var offer: RelayOffer?
    /// Every address of this host (uplinks too): never a relay to dial.
    var hostAddresses: Set<IPAddress> = []

    init(prefixes: [IPPrefix] = [], addresses: [IPAddress] = [], offer: RelayOffer? = nil) {
        self.prefixes = prefixes
        self.addresses = addresses
        self.offer = offer
    }

    /// - Parameters:
    ///   - lan: the LAN's interfaces; none known yet: no LAN, no offer.
    ///   - relayPort: where this gateway's relay listens; nil: it runs none (no offer).
    init(interfaces: [InterfaceAddress], lan: Set<InterfaceIndex>, relayPort: UInt16?, lanRouted: Bool) {
        guard !lan.isEmpty else { return }
        let usable = interfaces.filter { !$0.address.isLoopback && !$0.address.isUnspecified && !$0.address.isMulticast }
        let onLAN = usable.filter { lan.contains($0.interface) }
        hostAddresses = Set(usable.map(\.address))
        prefixes = Array(Set(onLAN.compactMap { IPPrefix($0.address, length: $0.prefixLength) })).sorted()
        addresses = Array(Set(onLAN.map(\.address).filter(Self.canCarryRelay))).sorted()
        guard let relayPort else { return }
        // The relay's SSH server listens on IPv4 and IPv6 (GatewayRelay.run); an IPv6
        // link-local address needs a scope an endpoint cannot carry. IPv4 first: a
        // dual-stack island's offer stays as it was when the offer is cut short.
        let dialable = usable.map(\.address).filter(Self.canCarryRelay)
        let uplinks = dialable.filter { address in !onLAN.contains { $0.address == address } }
        let byFamily = { (list: [IPAddress]) in list.filter(\.isIPv4) + list.filter { !$0.isIPv4 } }
        let endpoints = (byFamily(Array(Set(uplinks)).sorted()) + byFamily(addresses)).prefix(RelayOffer.maximumEndpoints).map { address in
            Endpoint(address: Endpoint.Address(address), port: relayPort)
        }
        offer = RelayOffer(endpoints: endpoints, lanPrefixes: prefixes, lanRouted: lanRouted)
    }

    /// IPv4 (link-local too) and IPv6 that needs no scope.
    static func canCarryRelay(_ address: IPAddress) -> Bool {
        switch address {
        case .v4: true
        case .v6: !address.isLinkLocal
        }
    }

    /// The host's interface addresses, from `getifaddrs` (through NIO).
    static func interfaceAddresses() -> [InterfaceAddress] {
        guard let devices = try? System.enumerateDevices() else { return [] }
        return devices.compactMap { device in
            guard let address = device.address.flatMap(Endpoint.init).map({ IPAddress($0.address) }) else { return nil }
            let length = device.netmask.flatMap(Endpoint.init).map({ IPAddress($0.address).prefixLength }) ?? (address.isIPv4 ? 32 : 128)
            return InterfaceAddress(interface: InterfaceIndex(device.interfaceIndex), address: address, prefixLength: length)
        }
    }
}

extension IPAddress {
    /// The number of leading one bits of a netmask.
    var prefixLength: Int {
        switch self {
        case .v4(let value): value.leadingNonzeroBitCount
        case .v6(let high, let low): high.leadingNonzeroBitCount + (high == .max ? low.leadingNonzeroBitCount : 0)
        }
    }

}

private extension FixedWidthInteger {
    /// Leading one bits.
    var leadingNonzeroBitCount: Int { (~self).leadingZeroBitCount }
}
