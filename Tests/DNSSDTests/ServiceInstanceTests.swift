import DNSSD
import Testing

/// Service identities and resolved instances: escaping in the full name, order-free equality.
@Suite struct ServiceInstanceTests {
    private func instance(addresses: [String], subtypes: [String] = []) throws -> ServiceInstance {
        ServiceInstance(name: try InstanceName("Lab Printer 3.1"), type: try ServiceType("_ipp._tcp"),
                        host: try HostName("tbp-host1.local"), port: 631,
                        subtypes: try subtypes.map { try Subtype($0) },
                        addresses: try addresses.map { try IPAddress($0) })
    }

    @Test func serviceIDPrintsAsAnEscapedDNSName() throws {
        let id = ServiceID(name: try InstanceName("Lab Printer 3.1"), type: try ServiceType("_ipp._tcp"))
        #expect(id.description == #"Lab\032Printer\0323\.1._ipp._tcp.local"#)
        #expect(id.domain == .local)
    }

    @Test func serviceIDsSortByTypeThenName() throws {
        let ids = try [("b", "_ipp._tcp"), ("a", "_ipp._tcp"), ("z", "_http._tcp")].map {
            ServiceID(name: try InstanceName($0.0), type: try ServiceType($0.1))
        }
        #expect(ids.sorted().map(\.description) == ["z._http._tcp.local", "a._ipp._tcp.local", "b._ipp._tcp.local"])
    }

    @Test func addressesAndSubtypesAreSortedAndDeduplicated() throws {
        let service = try instance(addresses: ["fe80::1", "10.0.1.11", "10.0.1.11", "10.0.1.2"],
                                   subtypes: ["_universal", "_color", "_universal"])
        #expect(service.addresses.map(\.description) == ["10.0.1.2", "10.0.1.11", "fe80::1"])
        #expect(service.subtypes.map(\.label) == ["_color", "_universal"])
    }

    @Test func sameServiceComparesEqualWhateverOrderItsRecordsArrivedIn() throws {
        let one = try instance(addresses: ["10.0.1.11", "fe80::1"], subtypes: ["_a", "_b"])
        let other = try instance(addresses: ["fe80::1", "10.0.1.11"], subtypes: ["_b", "_a"])
        #expect(one == other)
        #expect(one.hashValue == other.hashValue)
    }

    @Test func assigningAddressesKeepsThemSortedAndDistinct() throws {
        var service = try instance(addresses: [])
        service.addresses = try ["10.0.0.9", "10.0.0.1", "10.0.0.9"].map { try IPAddress($0) }
        #expect(service.addresses.map(\.description) == ["10.0.0.1", "10.0.0.9"])
        service.subtypes = try ["_z", "_a", "_z"].map { try Subtype($0) }
        #expect(service.subtypes.map(\.label) == ["_a", "_z"])
    }

    @Test func onlyRoutableAddressesAreOfferedForExport() throws {
        let service = try instance(addresses: ["169.254.7.7", "fe80::1", "127.0.0.1", "::1", "224.0.0.251",
                                               "10.0.1.11", "2001:db8::11"])
        #expect(service.routableAddresses.map(\.description) == ["10.0.1.11", "2001:db8::11"])
    }

    @Test func idCombinesNameTypeAndDomain() throws {
        let service = try instance(addresses: [])
        #expect(service.id == ServiceID(name: service.name, type: service.type, domain: .local))
    }
}
