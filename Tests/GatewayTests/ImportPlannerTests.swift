import DNSSD
@testable import Gateway
import Island
import LocalDomain
import Policy
import Primitives
import Rendezvous
import Testing

struct ImportPlannerTests {
    let slot1 = ValueSlot(owner: NodeID(w0: 1, w1: 0, w2: 0, w3: 0), valueID: 1)
    let slot2 = ValueSlot(owner: NodeID(w0: 2, w1: 0, w2: 0, w3: 0), valueID: 1)

    func planner(policy: Policy = .permitAll) -> ImportPlanner {
        var planner = ImportPlanner(gate: PolicyGate(policy: policy))
        _ = planner.activate(localIsland: Fixture.islandA)
        return planner
    }

    func published(_ effects: [ImportEffect]) -> [Publication] {
        effects.compactMap { if case .publish(_, let imported) = $0 { imported.publication } else { nil } }
    }

    /// The instances withdrawn by `effects`, in order.
    func withdrawn(_ effects: [ImportEffect]) -> [ImportKey] {
        effects.compactMap { if case .withdraw(let key, _) = $0 { key } else { nil } }
    }

    /// The instances held back by `effects`, with why.
    func held(_ effects: [ImportEffect]) -> [ImportKey: ImportHold] {
        Dictionary(effects.compactMap { if case .held(let key, let hold) = $0 { (key, hold) } else { nil } }, uniquingKeysWith: { $1 })
    }

    @Test func remoteServiceIsPublishedUnchangedOnASynthesizedHost() throws {
        var imports = planner()
        let txt = try TXTRecord(entries: [try TXTEntry(key: "bin", value: [0, 255]), try TXTEntry(key: "flag", value: nil)])
        let record = try Fixture.record("Office Printer", txt: txt)
        let publication = try #require(published(imports.apply(record, from: slot1)).first)
        #expect(publication.name.value == "Office Printer")
        #expect(publication.txt == txt && publication.port == 631 && publication.type == record.type)
        #expect(publication.host == .synthesized(try HostName("printer-z2z-0b0b0b0b.local"), addresses: [try IPAddress("10.0.2.5")]))
        #expect(publication.announcement == .immediate)
    }

    @Test func nameTakenOnTheLinkGetsTheIslandSuffixAndTheLocalServiceKeepsItsName() throws {
        var imports = planner()
        _ = imports.observe(.added(try Fixture.service("Office Printer")))
        let publication = try #require(published(imports.apply(try Fixture.record("Office Printer"), from: slot1)).first)
        #expect(publication.name.value == "Office Printer (island-b)")
    }

    @Test func importYieldsWhenALocalServiceWithItsNameAppears() throws {
        var imports = planner()
        _ = imports.apply(try Fixture.record("Office Printer"), from: slot1)
        let effects = imports.observe(.added(try Fixture.service("Office Printer")))
        let key = try Fixture.record("Office Printer").id
        #expect(withdrawn(effects) == [key] && effects.count == 2)
        #expect(published(effects).first?.name.value == "Office Printer (island-b)")
    }

    @Test func twoIslandsExportingOneNameAreBothImportedDistinctly() throws {
        var imports = planner()
        let fromB = published(imports.apply(try Fixture.record("Printer"), from: slot1))
        let fromC = published(imports.apply(try Fixture.record("Printer", island: IslandID(rawValue: 0xc), islandName: "island-c"), from: slot2))
        #expect(fromB.first?.name.value == "Printer")
        #expect(fromC.first?.name.value == "Printer (island-c)")
    }

    @Test func ownIslandServicesAreNotImportedAndDeniedOnesAreHeldWithTheRule() throws {
        let rule = PolicyRule(.deny, direction: .import, type: .exact(try ServiceType("_ssh._tcp")), line: 4)
        var imports = planner(policy: Policy(rules: [rule]))
        #expect(imports.apply(try Fixture.record("Mine", island: Fixture.islandA), from: slot1).isEmpty)
        let shell = try Fixture.record("Shell", type: "_ssh._tcp")
        let effects = imports.apply(shell, from: slot2)
        guard case .denied(let verdict)? = held(effects)[shell.id] else { Issue.record("expected a denial, got \(effects)"); return }
        #expect(verdict.ruleNumber == 1 && verdict.rule == rule && effects.count == 1)
        #expect(imports.held[shell.id] != nil && imports.imports.isEmpty)
        // Said once: the same value again changes nothing.
        #expect(imports.apply(shell, from: slot2).isEmpty)
    }

    @Test func updateKeepsTheNameAndRemovalWithdraws() throws {
        var imports = planner()
        _ = imports.apply(try Fixture.record("P"), from: slot1)
        let updated = imports.apply(try Fixture.record("P", addresses: ["10.0.2.6"]), from: slot1)
        guard case .update(_, let imported)? = updated.first else { Issue.record("expected update, got \(updated)"); return }
        #expect(imported.publication.name.value == "P")
        #expect(withdrawn(imports.remove(slot1)) == [try Fixture.record("P").id])
    }

    @Test func instanceHeldByTwoLeadersStaysUntilTheLastValueGoes() throws {
        var imports = planner()
        _ = imports.apply(try Fixture.record("P"), from: slot1)
        #expect(imports.apply(try Fixture.record("P"), from: slot2).isEmpty) // the same instance from a new leader
        #expect(imports.remove(slot1).isEmpty)
        #expect(withdrawn(imports.remove(slot2)) == [try Fixture.record("P").id])
    }

    @Test func steppingDownWithdrawsEverythingAndLeadingAgainRepublishes() throws {
        var imports = planner()
        _ = imports.apply(try Fixture.record("P"), from: slot1)
        #expect(withdrawn(imports.deactivate()) == [try Fixture.record("P").id])
        #expect(published(imports.activate(localIsland: Fixture.islandA)).count == 1)
    }

    // MARK: names and owners, as the planner's indexes keep them

    @Test func aNameAnImportGaveUpIsFreeForTheNextImportOfItsTypeOnly() throws {
        var imports = planner()
        let islandC = IslandID(rawValue: 0xc), islandD = IslandID(rawValue: 0xd)
        let slot3 = ValueSlot(owner: NodeID(w0: 3, w1: 0, w2: 0, w3: 0), valueID: 1)
        #expect(published(imports.apply(try Fixture.record("Printer"), from: slot1)).map(\.name.value) == ["Printer"])
        #expect(published(imports.apply(try Fixture.record("Printer", island: islandC, islandName: "island-c"), from: slot2))
            .map(\.name.value) == ["Printer (island-c)"])
        // Another type: its own names.
        let web = ValueSlot(owner: slot1.owner, valueID: 2)
        #expect(published(imports.apply(try Fixture.record("Printer", type: "_http._tcp"), from: web)).map(\.name.value) == ["Printer"])
        // B's printer goes: its name is free again, C's keeps the one it has.
        #expect(withdrawn(imports.remove(slot1)) == [try Fixture.record("Printer").id])
        #expect(published(imports.apply(try Fixture.record("Printer", island: islandD, islandName: "island-d"), from: slot3))
            .map(\.name.value) == ["Printer"])
        #expect(imports.imports.values.map(\.publication.name.value).sorted() == ["Printer", "Printer", "Printer (island-c)"])
    }

    @Test func anImportRenamedOnTheLinkHoldsItsNewNameAndFreesItsOld() throws {
        var imports = planner()
        _ = imports.apply(try Fixture.record("Printer"), from: slot1)
        imports.renamed(try Fixture.record("Printer").id, to: try InstanceName("Printer #2"))
        let fromC = published(imports.apply(try Fixture.record("Printer", island: IslandID(rawValue: 0xc), islandName: "island-c"), from: slot2))
        #expect(fromC.map(\.name.value) == ["Printer"])
        let slot3 = ValueSlot(owner: NodeID(w0: 3, w1: 0, w2: 0, w3: 0), valueID: 1)
        let fromD = published(imports.apply(try Fixture.record("Printer #2", island: IslandID(rawValue: 0xd), islandName: "island-d"), from: slot3))
        #expect(fromD.map(\.name.value) == ["Printer #2 (island-d)"])
    }

    @Test func aLeaderNamedAfterItsValuesArrivedHasThemCountedAsPublished() throws {
        var imports = planner()
        _ = imports.apply(try Fixture.record("P"), from: slot1) // the old leader's, left behind
        _ = imports.apply(try Fixture.record("P"), from: slot2) // the new leader's, before the directory names it
        // The new leader's value for another island's instance does not count for island B.
        _ = imports.apply(try Fixture.record("Q", island: IslandID(rawValue: 0xc), islandName: "island-c"),
                          from: ValueSlot(owner: slot2.owner, valueID: 9))
        _ = imports.setLeaders([Fixture.islandB: slot2.owner], now: .zero)
        #expect(imports.leaders[Fixture.islandB]?.published == [try Fixture.record("P").id])
        #expect(withdrawn(imports.remove(slot2)) == [try Fixture.record("P").id], "the old leader's value no longer counts")
    }

    // MARK: the island's current leader (finding 4 of RELIABILITY.md)

    @Test func withdrawalByTheNewLeaderWinsOverTheDeadLeadersLeftoverValue() throws {
        var imports = planner()
        _ = imports.apply(try Fixture.record("P"), from: slot1) // the leader that is then killed
        _ = imports.setLeaders([Fixture.islandB: slot2.owner], now: .zero)
        #expect(imports.apply(try Fixture.record("P"), from: slot2).isEmpty) // its successor takes over
        // The successor withdraws it; the dead leader's value lives on in the DHT, and no longer counts.
        let key = try Fixture.record("P").id
        let effects = imports.remove(slot2)
        #expect(withdrawn(effects) == [key] && held(effects) == [key: .notFromCurrentLeader])
    }

    @Test func anInstanceTheNewLeaderNeverPublishesGoesWhenTheHandoverEnds() throws {
        var imports = planner()
        let oldKept = ValueSlot(owner: slot1.owner, valueID: 2)
        _ = imports.apply(try Fixture.record("Gone"), from: slot1)
        _ = imports.apply(try Fixture.record("Kept"), from: oldKept)
        let named = Instant.zero + .seconds(10)
        let end = named + ImportPlanner.handoverGrace
        _ = imports.setLeaders([Fixture.islandB: slot2.owner], now: named)
        _ = imports.apply(try Fixture.record("Kept"), from: ValueSlot(owner: slot2.owner, valueID: 2))
        // During the handover the old leader's value stands in for what the new one has not published.
        #expect(imports.tick(now: Instant(nanoseconds: end.nanoseconds - 1_000_000)).isEmpty)
        #expect(imports.imports.count == 2)
        #expect(imports.nextDeadline == end)
        let gone = try Fixture.record("Gone").id
        let ended = imports.tick(now: end)
        #expect(withdrawn(ended) == [gone] && held(ended) == [gone: .notFromCurrentLeader] && ended.count == 2)
        #expect(imports.nextDeadline == nil)
        // A leftover value arriving late (a merge hands it on) does not come back either.
        #expect(imports.apply(try Fixture.record("Gone"), from: slot1).isEmpty)
    }

    @Test func anIslandWithoutADirectoryEntryKeepsTheNewestValueOfAnyOwner() throws {
        var imports = planner()
        _ = imports.apply(try Fixture.record("P"), from: slot1)
        _ = imports.setLeaders([Fixture.islandB: slot2.owner], now: .zero)
        // The island's entry goes (its leader stopped with SIGTERM): no leader named, any owner counts.
        _ = imports.tick(now: .zero + .seconds(60))
        #expect(imports.imports.isEmpty)
        #expect(published(imports.setLeaders([:], now: .zero + .seconds(61))).map(\.name.value) == ["P"])
    }
}

/// Imports through the relay (issue 14): the planner asks for a listener, publishes on this
/// leader's address and the listener's port once it is open, and closes it with the import.
struct ImportThroughRelayTests {
    let slot = ValueSlot(owner: NodeID(w0: 0xb, w1: 0, w2: 0, w3: 0), valueID: 1)

    @Test func aLinkLocalOnlyServiceIsPublishedOnTheRelayPortAndItsListenerClosesWithIt() throws {
        var imports = ImportPlanner()
        _ = imports.activate(localIsland: Fixture.islandA)
        _ = imports.setRelay(mode: .auto, localPrefixes: [try IPPrefix("192.168.1.0/24")], leaderAddresses: [try IPAddress("192.168.1.2")])
        var record = try Fixture.record("Camera", addresses: [])
        record.relay = RelayOffer(endpoints: [Endpoint(ipv4: 100, 64, 2, 1, port: 7403)], lanPrefixes: [try IPPrefix("192.168.1.0/24")],
                                  lanRouted: false)
        let asked = imports.apply(record, from: slot)
        guard asked.count == 1, case .relay(.openRelay(record.id, let source)) = asked[0] else {
            Issue.record("expected a relay listener asked for, got \(asked)"); return
        }
        #expect(source.leader == slot.owner && source.endpoints == record.relay?.endpoints)
        let published = imports.relayOpened(record.id, port: 40_100)
        guard case .publish(_, let imported)? = published.first else { Issue.record("expected a publication, got \(published)"); return }
        #expect(imported.publication.port == 40_100)
        #expect(imported.publication.host == .synthesized(try HostName("printer-relay-z2z-0b0b0b0b.local"), addresses: [try IPAddress("192.168.1.2")]))
        let gone = imports.remove(slot)
        #expect(gone.contains(.relay(.closeRelay(record.id))) && gone.contains { if case .withdraw = $0 { true } else { false } })
    }

    /// One host's services, one relayed and one not, on two host names: the address records
    /// of a shared one would send the direct import's clients to the relay too.
    @Test func aRelayedAndADirectImportOfOneHostAreOnHostsOfTheirOwn() throws {
        var imports = ImportPlanner()
        _ = imports.activate(localIsland: Fixture.islandA)
        _ = imports.setRelay(mode: .auto, localPrefixes: [try IPPrefix("192.168.1.0/24")], leaderAddresses: [try IPAddress("192.168.1.2")])
        let offer = RelayOffer(endpoints: [Endpoint(ipv4: 100, 64, 2, 1, port: 7403)], lanPrefixes: [try IPPrefix("10.2.0.0/24")],
                               lanRouted: true)
        var camera = try Fixture.record("Camera", addresses: ["10.2.0.5"])
        var scanner = try Fixture.record("Scanner", addresses: ["10.2.0.5"])
        camera.relay = offer
        scanner.relay = offer
        _ = imports.apply(camera, from: slot)
        _ = imports.apply(scanner, from: ValueSlot(owner: slot.owner, valueID: 2))
        let direct = imports.probed(camera.id, reachable: true)
        _ = imports.probed(scanner.id, reachable: false)
        let relayed = imports.relayOpened(scanner.id, port: 40_100)
        guard case .publish(_, let cameraImport)? = direct.first, case .publish(_, let scannerImport)? = relayed.first else {
            Issue.record("expected two publications, got \(direct) and \(relayed)"); return
        }
        #expect(cameraImport.publication.host == .synthesized(try HostName("printer-z2z-0b0b0b0b.local"), addresses: [try IPAddress("10.2.0.5")]))
        #expect(scannerImport.publication.host == .synthesized(try HostName("printer-relay-z2z-0b0b0b0b.local"), addresses: [try IPAddress("192.168.1.2")]))
    }

    @Test func withTheRelayOffTheSameServiceIsHeldAsUnreachable() throws {
        var imports = ImportPlanner()
        _ = imports.activate(localIsland: Fixture.islandA)
        var record = try Fixture.record("Camera", addresses: [])
        record.relay = RelayOffer(lanPrefixes: [], lanRouted: false)
        let effects = imports.apply(record, from: slot)
        guard effects.count == 1, case .held(record.id, .unreachable) = effects[0] else { Issue.record("got \(effects)"); return }
    }
}
