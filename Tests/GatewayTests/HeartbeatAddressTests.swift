@testable import Gateway
import Primitives
import Testing

/// Where heartbeats go: the address of another gateway's advert that its DHT socket (the IPv6
/// wildcard, dual-stack) reaches. An IPv6-only island's adverts carry IPv6 addresses only.
struct HeartbeatAddressTests {
    @Test func aDualStackAdvertIsReachedOverItsRoutableIPv4Address() throws {
        let advert = try Fixture.service("gw", type: "_z2z._udp", addresses: ["fe80::5", "fd00:1::5", "169.254.3.4", "10.0.1.5"])
        #expect(GatewayMachine.bestAddress(advert) == .v4(0x0a00_0105))
    }

    @Test func anIPv6OnlyAdvertIsReachedOverItsRoutableIPv6Address() throws {
        let advert = try Fixture.service("gw", type: "_z2z._udp", addresses: ["fe80::5", "fd00:1::5"])
        #expect(GatewayMachine.bestAddress(advert) == .v6(0xfd00_0001_0000_0000, 5))
    }

    @Test func anAdvertWithOnlyAnIPv6LinkLocalAddressIsNotReached() throws {
        // fe80 needs the interface, which an endpoint cannot carry.
        let advert = try Fixture.service("gw", type: "_z2z._udp", addresses: ["fe80::5"])
        #expect(GatewayMachine.bestAddress(advert) == nil)
    }
}
