@testable import Avahi
import DNSSD
import LocalDomain
import Testing

/// `HostAddressTable`: which host watches run, and what each has seen.
struct HostAddressTableTests {
    let printer = ServiceID(name: try! InstanceName("Lab Printer"), type: try! ServiceType("_ipp._tcp"))
    let scanner = ServiceID(name: try! InstanceName("Lab Scanner"), type: try! ServiceType("_uscan._tcp"))
    let watch = HostWatch(interface: 2, host: try! HostName("Printer.local"))

    @Test func hostNamesAreWatchedInCanonicalForm() throws {
        #expect(watch == HostWatch(interface: 2, host: try HostName("printer.local")))
        #expect(watch != HostWatch(interface: 3, host: try HostName("printer.local")))
    }

    @Test func servicesOnOneHostShareOneWatchThatStopsWithTheLastOfThem() {
        var table = HostAddressTable()
        #expect(table.use(watch, by: printer) == [.startWatch(watch)])
        #expect(table.use(watch, by: scanner).isEmpty)
        #expect(table.release(watch, by: printer).isEmpty)
        #expect(table.release(watch, by: scanner) == [.stopWatch(watch)])
        #expect(table.release(watch, by: scanner).isEmpty)
        #expect(table.count == 0)
    }

    @Test func anAddressSeenOverBothProtocolsCountsOnceAndStaysUntilBothSayItWent() throws {
        var table = HostAddressTable()
        _ = table.use(watch, by: printer)
        let address = try IPAddress("fd00:1::12")
        #expect(table.added(watch, address, over: .ipv4) == [printer])
        #expect(table.added(watch, address, over: .ipv6).isEmpty)
        #expect(table.removed(watch, address, over: .ipv4).isEmpty)
        #expect(table.addresses(of: watch) == [address])
        #expect(table.removed(watch, address, over: .ipv6) == [printer])
        #expect(table.addresses(of: watch).isEmpty)
    }

    @Test func everyAddressOfTheHostIsKeptSorted() throws {
        var table = HostAddressTable()
        _ = table.use(watch, by: printer)
        for text in ["fe80::1", "169.254.1.12", "fd00:1::12", "10.0.1.12"] {
            _ = table.added(watch, try IPAddress(text), over: .ipv4)
        }
        #expect(table.addresses(of: watch).map(\.description) == ["10.0.1.12", "169.254.1.12", "fd00:1::12", "fe80::1"])
    }

    @Test func aWatchHoldsAtMostSixteenAddresses() throws {
        var table = HostAddressTable()
        _ = table.use(watch, by: printer)
        for host in 1...20 { _ = table.added(watch, .v4(0x0A00_0100 | UInt32(host)), over: .ipv4) }
        #expect(table.addresses(of: watch).count == HostAddressTable.maximumAddresses)
        #expect(table.addresses(of: watch).last == .v4(0x0A00_0110), "the first sixteen seen stay")
        #expect(table.added(watch, .v4(0x0A00_0120), over: .ipv4).isEmpty)
    }

    @Test func recordsForAWatchNobodyUsesAreIgnored() throws {
        var table = HostAddressTable()
        #expect(table.added(watch, try IPAddress("10.0.1.12"), over: .ipv4).isEmpty)
        _ = table.use(watch, by: printer)
        _ = table.added(watch, try IPAddress("10.0.1.12"), over: .ipv4)
        _ = table.release(watch, by: printer)
        _ = table.use(watch, by: printer)
        #expect(table.addresses(of: watch).isEmpty, "a stopped watch forgets what it saw")
    }

    @Test func afterAReconnectAddressesStayUntilTheSweepDropsThoseNotSeenAgain() throws {
        var table = HostAddressTable()
        _ = table.use(watch, by: printer)
        let (kept, gone) = (try IPAddress("10.0.1.12"), try IPAddress("fd00:1::12"))
        _ = table.added(watch, kept, over: .ipv4)
        _ = table.added(watch, gone, over: .ipv4)
        table.disconnected()
        #expect(table.use(watch, by: printer) == [.startWatch(watch)])
        #expect(table.addresses(of: watch) == [kept, gone], "no flap while the watch starts again")
        #expect(table.added(watch, kept, over: .ipv4).isEmpty, "seen again: no change")
        #expect(table.sweepStale() == [printer])
        #expect(table.addresses(of: watch) == [kept])
    }
}
