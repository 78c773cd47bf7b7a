import API
import Config
import Testing

/// Host and Origin checks of the local API (issue 18: DNS rebinding, cross-site posts).
struct RequestGuardTests {
    let loopback = RequestGuard(listen: try! HostPort(parsing: "127.0.0.1:7401"))

    @Test func theAPIsOwnAddressesLocalhostAndIPLiteralsAreAllowedHosts() {
        for host in ["127.0.0.1:7401", "127.0.0.1", "localhost:7401", "LOCALHOST", "[::1]:7401", "10.0.0.5:7401", nil] {
            #expect(loopback.refusal(host: host, origin: nil) == nil, "\(host ?? "no Host")")
        }
    }

    @Test func aNameOtherThanLocalhostIsRefusedAsARebindingWould() {
        for host in ["evil.example", "evil.example:7401", "127.0.0.1.nip.io:7401", "", "[::1", "a b"] {
            #expect(loopback.refusal(host: host, origin: nil) == .host(host), "\(host)")
        }
    }

    @Test func theConfiguredNameIsAllowed() {
        let named = RequestGuard(listen: try! HostPort(parsing: "gateway.lan:7401"))
        #expect(named.refusal(host: "Gateway.LAN:7401", origin: nil) == nil)
        #expect(named.refusal(host: "other.lan:7401", origin: nil) == .host("other.lan:7401"))
    }

    @Test func onlyTheAPIsOwnOriginPasses() {
        for origin in ["http://127.0.0.1:7401", "http://localhost:7401", "http://[::1]:7401"] {
            #expect(loopback.refusal(host: "127.0.0.1:7401", origin: origin) == nil, "\(origin)")
        }
        for origin in ["http://evil.example", "http://evil.example:7401", "https://127.0.0.1:7401", "http://127.0.0.1:8080",
                       "http://10.0.0.5:7401", "null", "http://127.0.0.1:7401/path", ""] {
            #expect(loopback.refusal(host: "127.0.0.1:7401", origin: origin) == .origin(origin), "\(origin)")
        }
    }

    @Test func aWildcardListenerTakesItsPagesFromAnyOfTheMachinesAddresses() {
        let wildcard = RequestGuard(listen: try! HostPort(parsing: "0.0.0.0:7401"))
        #expect(wildcard.refusal(host: "192.168.1.5:7401", origin: "http://192.168.1.5:7401") == nil)
        #expect(wildcard.refusal(host: "192.168.1.5:7401", origin: "http://192.168.1.9:8000") == .origin("http://192.168.1.9:8000"))
    }

    @Test func theConnectionLimitLeavesDescriptorsForTheRestOfTheDaemon() {
        #expect(APIServer.connectionLimit(descriptors: 1024) == 576)
        #expect(APIServer.connectionLimit(descriptors: 65_536) == 48_960)
        #expect(APIServer.connectionLimit(descriptors: 100) == 16)
    }
}
