@testable import Avahi
import DNSSD
import LocalDomain
import Testing

struct PublicationTableTests {
    func publication(_ name: String, host: PublicationHost = .thisHost, rule: RenameRule = .numbered) throws -> Publication {
        Publication(name: try InstanceName(name), type: try ServiceType("_http._tcp"), port: 80, host: host, renameRule: rule)
    }

    @Test func synthesizedHostIsSharedAndReleasedWithItsLastUser() throws {
        var table = PublicationTable()
        let host = PublicationHost.synthesized(try HostName("cam.local"), addresses: [try IPAddress("10.0.2.17")])
        let (first, newHost) = try table.add(try publication("A", host: host))
        #expect(newHost == "cam.local")
        let (second, noNewHost) = try table.add(try publication("B", host: host))
        #expect(noNewHost == nil)
        #expect(table.remove(first)?.releasedHost == nil)
        #expect(table.remove(second)?.releasedHost == "cam.local")
        #expect(table.hosts.isEmpty)
    }

    @Test func sameHostWithOtherAddressesTakesTheNewestAndIsReannounced() throws {
        var table = PublicationTable()
        let (a, _) = try table.add(try publication("A", host: .synthesized(try HostName("cam.local"), addresses: [try IPAddress("10.0.2.17")])))
        let (_, changed) = try table.add(try publication("B", host: .synthesized(try HostName("CAM.local"), addresses: [try IPAddress("10.0.2.18")])))
        #expect(changed == "cam.local")
        #expect(table.hosts["cam.local"]?.addresses == [try IPAddress("10.0.2.18")])
        #expect(table.hosts["cam.local"]?.users.count == 2)
        // Updating the only other user's addresses back re-announces without releasing the host.
        let update = try table.update(a, to: try publication("A", host: .synthesized(try HostName("cam.local"), addresses: [try IPAddress("10.0.2.19")])))
        #expect(update.newHost == "cam.local" && update.releasedHost == nil && update.kind == .reregister)
    }

    @Test func soleUserChangingItsHostAddressesKeepsTheHostAnnounced() throws {
        var table = PublicationTable()
        let (a, _) = try table.add(try publication("A", host: .synthesized(try HostName("cam.local"), addresses: [try IPAddress("10.0.2.17")])))
        let update = try table.update(a, to: try publication("A", host: .synthesized(try HostName("cam.local"), addresses: [try IPAddress("10.0.2.20")])))
        #expect(update.newHost == "cam.local" && update.releasedHost == nil)
        #expect(table.hosts["cam.local"]?.addresses == [try IPAddress("10.0.2.20")])
    }

    @Test func synthesizedHostWithoutAddressesIsRefusedAndNothingIsKept() throws {
        var table = PublicationTable()
        #expect(throws: PublishError.noAddresses) {
            _ = try table.add(try publication("A", host: .synthesized(try HostName("cam.local"), addresses: [])))
        }
        #expect(table.entries.isEmpty && table.hosts.isEmpty)
    }

    @Test func collisionsRenameFromTheOriginalNameByTheRule() throws {
        var table = PublicationTable()
        let (id, _) = try table.add(try publication("Printer", rule: .suffix("island-b")))
        #expect(table.nameCollided(id)?.value == "Printer (island-b)")
        #expect(table.nameCollided(id)?.value == "Printer (island-b) #2")
    }

    @Test func hostCollisionRenamesTheHostAndNamesItsUsers() throws {
        var table = PublicationTable()
        let host = PublicationHost.synthesized(try HostName("cam.local"), addresses: [try IPAddress("10.0.2.17")])
        let (a, _) = try table.add(try publication("A", host: host))
        let (b, _) = try table.add(try publication("B", host: host))
        let collided = table.hostCollided("cam.local")
        let result = try #require(collided)
        #expect(result.announced.value == "cam-2.local")
        #expect(result.users == [a, b].sorted())
        #expect(table.target(of: a)?.value == "cam-2.local")
    }

    @Test func txtOnlyUpdateIsDoneInPlaceAndPortChangeReregisters() throws {
        var table = PublicationTable()
        var p = try publication("A")
        let (id, _) = try table.add(p)
        p.txt = try TXTRecord(["v": "2"])
        #expect(try table.update(id, to: p).kind == .txtOnly)
        p.port = 8080
        #expect(try table.update(id, to: p).kind == .reregister)
        #expect(table.entries[id]?.publication.port == 8080)
    }
}

extension PublicationTableTests {
    /// Browse results are matched to our publications by the name they use now (Avahi flags
    /// OUR_OWN only for groups of the browsing client, and ours live on publishing clients).
    @Test func aPublicationIsFoundByItsCurrentNameAcrossRenamesAndNotAfterItsWithdrawal() throws {
        var table = PublicationTable()
        let (id, _) = try table.add(try publication("Cam"))
        let original = ServiceID(name: try InstanceName("Cam"), type: try ServiceType("_http._tcp"))
        #expect(table.entry(named: original)?.name.value == "Cam")
        let collided = table.nameCollided(id)
        let renamed = try #require(collided)
        #expect(table.entry(named: original) == nil)
        #expect(table.entry(named: ServiceID(name: renamed, type: try ServiceType("_http._tcp")))?.name == renamed)
        _ = table.remove(id)
        #expect(table.entry(named: ServiceID(name: renamed, type: try ServiceType("_http._tcp"))) == nil)
    }
}
