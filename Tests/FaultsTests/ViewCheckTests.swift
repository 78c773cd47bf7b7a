import DNSSD
import Faults
import Testbed
import Testing

/// The checks scenarios make of the islands' views, over views built from avahi-browse
/// lines and instants chosen by the test.
@Suite struct ViewCheckTests {
    static let type = BrowseFixture.type
    let fixture = BrowseFixture()

    func at(_ seconds: Double) -> ContinuousClock.Instant { fixture.at(seconds) }
    func view(_ lines: [(Double, String)]) throws -> BrowseView { try fixture.view(lines) }
    static func resolved(_ name: String, host: String = "h.local", proto: String = "IPv4", type: String = type) -> String {
        BrowseFixture.resolved(name, host: host, proto: proto, type: type)
    }
    static func removed(_ name: String, proto: String = "IPv4") -> String { BrowseFixture.removed(name, proto: proto) }

    @Test func viewsEqualTheTruthOnlyWhenEachHoldsExactlyIt() throws {
        let whole = HostView(host: "i1h2", view: try view([(0, Self.resolved("A")), (0, Self.resolved("B"))]))
        let short = HostView(host: "i2h2", view: try view([(0, Self.resolved("A")), (0, Self.resolved("C"))]))
        #expect(ViewCheck.allEqual([whole], ["A", "B"], type: Self.type))
        #expect(!ViewCheck.allEqual([whole, short], ["A", "B"], type: Self.type))
        #expect(ViewCheck.describe([whole, short], ["A", "B"], type: Self.type) == "i2h2: missing ['B'] extra ['C']")
        #expect(ViewCheck.describe([whole], ["A", "B"], type: Self.type) == "all equal")
        // Only IPv4 resolutions of the scenario's type count.
        let other = HostView(host: "i3h2", view: try view([(0, Self.resolved("A", proto: "IPv6")), (0, Self.resolved("B", type: "_ipp._tcp"))]))
        #expect(ViewCheck.describe([other], ["A", "B"], type: Self.type) == "i3h2: missing ['A', 'B'] extra []")
    }

    @Test func aViewThatLostAServiceIsWholeOnlyOnceItIsResolvedAgain() throws {
        var lines: [(Double, String)] = [(0, Self.resolved("A")), (2, Self.removed("A"))]
        let away = HostView(host: "i1h2", view: try view(lines))
        #expect(!ViewCheck.isWhole([away], ["A"], type: Self.type, since: at(1)))
        lines.append((3, Self.resolved("A")))
        let back = HostView(host: "i1h2", view: try view(lines))
        #expect(ViewCheck.isWhole([back], ["A"], type: Self.type, since: at(1)))
        #expect(ViewCheck.dropped([back], ["A"], since: at(1)) == ["A@i1h2"])
        // A removal before the fault is no concern of this recovery.
        #expect(ViewCheck.dropped([back], ["A"], since: at(2.5)) == [])
    }
}
