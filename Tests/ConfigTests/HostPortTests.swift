import Config
import Testing

struct HostPortTests {
    @Test func parsesIPv4IPv6AndNames() throws {
        #expect(try HostPort(parsing: "127.0.0.1:7401").description == "127.0.0.1:7401")
        #expect(try HostPort(parsing: "[::1]:7401").hostText == "::1")
        #expect(try HostPort(parsing: "[::1]:7401").description == "[::1]:7401")
        #expect(try HostPort(parsing: "gw-1.example.org:7400").host == .name("gw-1.example.org"))
        #expect(try HostPort(parsing: "localhost:1").isLoopback)
        #expect(try !HostPort(parsing: "192.0.2.1:1").isLoopback)
    }

    @Test func aDefaultPortFillsABareHost() throws {
        #expect(try HostPort(parsing: "192.0.2.1", defaultPort: 7400).port == 7400)
        #expect(try HostPort(parsing: "[2001:db8::1]", defaultPort: 7400).description == "[2001:db8::1]:7400")
        #expect(throws: HostPortError.missingPort("192.0.2.1")) { try HostPort(parsing: "192.0.2.1") }
    }

    @Test func refusesWhatIsNotHostPort() {
        #expect(throws: HostPortError.portOutOfRange(0)) { try HostPort(parsing: "a:0") }
        #expect(throws: HostPortError.portOutOfRange(65536)) { try HostPort(parsing: "a:65536") }
        #expect(throws: HostPortError.badPort("x")) { try HostPort(parsing: "a:x") }
        #expect(throws: HostPortError.malformed("::1")) { try HostPort(parsing: "::1") }
        #expect(throws: HostPortError.badHost("1.2.3")) { try HostPort(parsing: "1.2.3:4") }
        #expect(throws: HostPortError.badHost("-a")) { try HostPort(parsing: "-a:4") }
        #expect(throws: HostPortError.badHost("")) { try HostPort(parsing: ":4") }
        #expect(throws: HostPortError.badHost("10.0.0.1")) { try HostPort(parsing: "[10.0.0.1]:4") }
    }
}
