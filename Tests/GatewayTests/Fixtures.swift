import DNSSD
@testable import Gateway
import Island
import LocalDomain

enum Fixture {
    static let islandA = IslandID(rawValue: 0x0a0a_0a0a_0000_0001)
    static let islandB = IslandID(rawValue: 0x0b0b_0b0b_0000_0002)

    static func service(_ name: String, type: String = "_ipp._tcp", host: String = "printer.local",
                        addresses: [String] = ["10.0.1.5", "fe80::5"], txt: TXTRecord = .empty,
                        origin: Origin = []) throws -> DiscoveredService {
        let instance = ServiceInstance(name: try InstanceName(name), type: try ServiceType(type), host: try HostName(host),
                                       port: 631, txt: txt, addresses: try addresses.map { try IPAddress($0) })
        return DiscoveredService(instance: instance, origin: origin,
                                 linkAddresses: instance.addresses.map { LinkAddress(interface: 2, address: $0) })
    }

    static func record(_ name: String, island: IslandID = islandB, islandName: String = "island-b",
                       type: String = "_ipp._tcp", addresses: [String] = ["10.0.2.5"], host: String = "printer",
                       txt: TXTRecord = .empty) throws -> ServiceRecord {
        ServiceRecord(island: island, islandName: islandName, name: try InstanceName(name), type: try ServiceType(type),
                      port: 631, txt: txt, addresses: try addresses.map { try IPAddress($0) }, hostLabel: host)
    }
}
