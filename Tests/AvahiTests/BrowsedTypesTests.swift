@testable import Avahi
import DNSSD
import Testing

/// Which types get a service browser: enumerated by Avahi or heard on the link, each once.
struct BrowsedTypesTests {
    let sensor = try! ServiceType("_zsensor._tcp")
    let printer = try! ServiceType("_ipp._tcp")

    @Test func aTypeHeardOnTheLinkStartsExactlyOneBrowser() {
        var types = BrowsedTypes()
        #expect(types.heard(sensor) == [.openBrowser(sensor)])
        #expect(types.heard(sensor).isEmpty, "heard again: already browsed")
        #expect(types.enumerated(sensor).isEmpty, "enumerated later: already browsed")
        #expect(types.browsed == [sensor])
    }

    @Test func aTypeEnumeratedFirstIsNotOpenedAgainWhenHeard() {
        var types = BrowsedTypes()
        #expect(types.enumerated(printer) == [.openBrowser(printer)])
        #expect(types.heard(printer).isEmpty)
        #expect(types.unconfirmed.isEmpty)
    }

    @Test func heardTypesAreBoundedAndTheFirstRefusalIsReportedOnce() throws {
        var types = BrowsedTypes(heardLimit: 2)
        let made = try (1...4).map { try ServiceType("_made\($0)._udp") }
        #expect(types.heard(made[0]) == [.openBrowser(made[0])])
        #expect(types.heard(made[1]) == [.openBrowser(made[1])])
        #expect(types.heard(made[2]) == [.heardLimitReached(made[2], limit: 2)])
        #expect(types.heard(made[3]).isEmpty, "reported once")
        // Enumerated types do not count against the bound, and confirm a heard one.
        #expect(types.enumerated(printer) == [.openBrowser(printer)])
        #expect(types.enumerated(made[0]).isEmpty)
        #expect(types.heard(made[2]) == [.openBrowser(made[2])], "room again after a confirmation")
    }

    @Test func aRefusedBrowserIsTriedAgainAtTheNextMention() {
        var types = BrowsedTypes()
        _ = types.heard(sensor)
        types.browserFailed(sensor)
        #expect(types.heard(sensor) == [.openBrowser(sensor)])
    }

    @Test func aNewConnectionBrowsesAfresh() {
        var types = BrowsedTypes(heardLimit: 1)
        _ = types.heard(sensor)
        _ = types.heard(printer)
        types.disconnected()
        #expect(types.heard(sensor) == [.openBrowser(sensor)])
        #expect(types.heard(printer) == [.heardLimitReached(printer, limit: 1)], "reported again on the new connection")
    }
}
