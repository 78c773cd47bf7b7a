import DNSSD
import Testbed
import Testing

/// A host's view as avahi-browse lines arrive: what is present, when a service went and
/// came back. Lines and instants are the test's own.
@Suite struct BrowseViewTests {
    static let type = BrowseFixture.type
    let fixture = BrowseFixture()

    func at(_ seconds: Double) -> ContinuousClock.Instant { fixture.at(seconds) }
    func view(_ lines: [(Double, String)]) throws -> BrowseView { try fixture.view(lines) }
    static func resolved(_ name: String, host: String = "h.local", proto: String = "IPv4", type: String = type) -> String {
        BrowseFixture.resolved(name, host: host, proto: proto, type: type)
    }
    static func removed(_ name: String, proto: String = "IPv4") -> String { BrowseFixture.removed(name, proto: proto) }

    @Test func onlyIPv4ResolutionsOfTheTypeCount() throws {
        let view = try view([
            (0, "+;eth0;IPv4;A;\(Self.type);local"), // seen, never resolved
            (0, Self.resolved("B", proto: "IPv6")),
            (0, Self.resolved("C", type: "_ipp._tcp")),
        ])
        #expect(view.names(ofType: Self.type).isEmpty)
        #expect(view.names(ofType: Self.type, over: "IPv6") == ["B"])
        #expect(view.names() == ["C"])
    }

    @Test func presentMeansTheLastResolutionCameAfterTheLastRemoval() throws {
        let view = try view([(0, Self.resolved("A")), (1, Self.removed("A")), (2, Self.resolved("A", host: "new.local")),
                             (3, Self.resolved("B")), (4, Self.removed("B"))])
        #expect(view.names(ofType: Self.type) == ["A"])
        #expect(view.hosts(ofType: Self.type) == ["A": "new.local"])
        #expect(view.present.count == 1)
        #expect(view.events.count == 5)
    }

    @Test func theOutageRunsFromTheFirstRemovalToTheNextResolutionOrToNow() throws {
        let view = try view([(1, Self.resolved("A")), (2, Self.removed("A")), (5.5, Self.resolved("A")), (6, Self.removed("A"))])
        #expect(view.outage(of: "A", since: at(0), now: at(10)) == .milliseconds(3500))
        #expect(view.outage(of: "A", since: at(5.8), now: at(10)) == .seconds(4))
        #expect(view.outage(of: "B", since: at(0), now: at(10)) == .zero)
        #expect(view.isAway("A", since: at(5.8)))
        // Since 0 s, A's first removal (2 s) was followed by a resolution (5.5 s).
        #expect(!view.isAway("A", since: at(0)))
        #expect(view.first(.resolved, of: "A", after: at(2)) == at(5.5))
        #expect(view.first(.resolved, of: "A", after: at(1)) == at(1)) // at or after
    }

    @Test func namesAreUnescapedFromAvahiBrowse() throws {
        let view = try view([(0, "=;eth0;IPv4;Kil\\0323\\.x;\(Self.type);local;h.local;10.1.1.11;9000;\"n=3\"")])
        #expect(view.names(ofType: Self.type) == ["Kil 3.x"])
    }
}
