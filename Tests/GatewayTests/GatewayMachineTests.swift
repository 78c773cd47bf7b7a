import DNSSD
@testable import Gateway
import GatewayReports
import Island
import LocalDomain
import Primitives
import Rendezvous
import Testing

/// Whole gateways on virtual time (`GatewayWorld`): services cross islands, withdrawals
/// follow, loops never start, and a leader's death does not lose the island's services.
struct GatewayMachineTests {
    func printer(_ name: String = "Office Printer", host: String = "printer.local", address: String = "10.1.0.50",
                 txt: TXTRecord = .empty) throws -> ServiceInstance {
        ServiceInstance(name: try InstanceName(name), type: try ServiceType("_ipp._tcp"), host: try HostName(host), port: 631,
                        txt: txt, addresses: [try IPAddress(address), try IPAddress("fe80::50")])
    }

    func named(_ name: String, on island: Int, in world: GatewayWorld) -> [ServiceInstance] {
        world.view(island: island).filter { $0.name.value == name }
    }

    @Test func serviceOnOneIslandAppearsOnTheOtherWithItsFieldsAndRoutableAddress() throws {
        var world = GatewayWorld()
        world.addGateway(island: 1)
        world.addGateway(island: 2)
        let txt = try TXTRecord(entries: [try TXTEntry(key: "bin", value: [1, 255]), try TXTEntry(key: "flag", value: nil)])
        world.publishDevice(island: 1, try printer(txt: txt))
        world.run(for: .seconds(5))
        let imported = try #require(named("Office Printer", on: 2, in: world).first)
        #expect(imported.txt == txt && imported.port == 631)
        #expect(imported.addresses == [try IPAddress("10.1.0.50")])
        #expect(SynthesizedHost.isSynthesized(imported.host))
        // Exactly once on island 2, and never re-imported on island 1.
        #expect(named("Office Printer", on: 2, in: world).count == 1)
        #expect(named("Office Printer", on: 1, in: world).count == 1)
    }

    /// A router's link gateway (router mode) leaves the islands of its box's other links to
    /// the in-process exchange: their records in the DHT are not imported (they would be
    /// published twice), while every other island's are, and its own exports reach everyone.
    @Test func aGatewayImportsNothingFromItsSiblingIslandsButEverythingElse() throws {
        let staff = IslandID(rawValue: 0x5747_0001), students = IslandID(rawValue: 0x5747_0002)
        var world = GatewayWorld()
        world.addGateway(island: 1, islandName: "staff", islandID: staff, siblings: [students])
        world.addGateway(island: 2, islandName: "students", islandID: students, siblings: [staff])
        world.addGateway(island: 3, islandName: "four")
        world.publishDevice(island: 1, try printer("Staff Printer"))
        world.publishDevice(island: 3, try printer("Lab Printer", host: "lab.local", address: "10.3.0.50"))
        world.run(for: .seconds(5))
        #expect(named("Staff Printer", on: 2, in: world).isEmpty, "a sibling's service comes in process, not from the DHT")
        #expect(named("Staff Printer", on: 3, in: world).count == 1)
        #expect(named("Lab Printer", on: 1, in: world).count == 1)
        #expect(named("Lab Printer", on: 2, in: world).count == 1)
        #expect(world.gateways[0].machine.island == staff, "a link's island is its own, named by the router")
    }

    /// An ordinary gateway of higher priority leads one of a router's links (issue 16): it
    /// imports the router's other links from the DHT, so the router's exchange leaves that
    /// link — each service is on each link exactly once, not once from the exchange and once
    /// from the DHT — and takes it back when that gateway goes.
    @Test func aRouterLinkLedByAnotherGatewayGetsEachServiceOnce() throws {
        var world = GatewayWorld()
        let ordinary = world.addGateway(island: 1, priority: 200, islandName: "staff")
        world.run(for: .seconds(5))
        world.addRouter(islands: [1, 2])
        world.addGateway(island: 3, islandName: "four")
        world.publishDevice(island: 1, try printer("Staff Printer"))
        world.publishDevice(island: 2, try printer("Student Printer", host: "student.local", address: "10.2.0.50"))
        world.publishDevice(island: 3, try printer("Lab Printer", host: "lab.local", address: "10.3.0.50"))
        world.run(for: .seconds(10))
        #expect(world.leaders(island: 1) == [ordinary])
        let router = try #require(world.router)
        #expect(!router.exchange.isLed(0) && router.exchange.isLed(1))
        for (name, islands) in [("Staff Printer", [1, 2, 3]), ("Student Printer", [1, 2, 3]), ("Lab Printer", [1, 2, 3])] {
            for island in islands { #expect(world.copies(name, on: island) == 1, "\(name) on island \(island)") }
        }
        // The ordinary gateway goes: the router's gateway leads the link, and the exchange takes it back.
        world.kill(ordinary)
        world.run(for: .seconds(20))
        #expect(world.leaders(island: 1) == [router.gateways[0]])
        #expect(world.router?.exchange.isLed(0) == true)
        for name in ["Staff Printer", "Student Printer", "Lab Printer"] {
            for island in [1, 2, 3] { #expect(world.copies(name, on: island) == 1, "\(name) on island \(island)") }
        }
    }

    /// A router leading both its links: they cross in process, and the fourth island through the DHT.
    @Test func aRouterLeadingItsLinksCarriesEachServiceOncePerLink() throws {
        var world = GatewayWorld()
        world.addRouter(islands: [1, 2])
        world.addGateway(island: 3, islandName: "four")
        world.publishDevice(island: 1, try printer("Staff Printer"))
        world.publishDevice(island: 3, try printer("Lab Printer", host: "lab.local", address: "10.3.0.50"))
        world.run(for: .seconds(10))
        let router = try #require(world.router)
        #expect(router.exchange.isLed(0) && router.exchange.isLed(1))
        #expect(router.publications[1].values.map(\.name.value) == ["Staff Printer"], "in process")
        for name in ["Staff Printer", "Lab Printer"] {
            for island in [1, 2, 3] { #expect(world.copies(name, on: island) == 1, "\(name) on island \(island)") }
        }
    }

    @Test func withdrawalOnTheSourceIslandRemovesTheImport() throws {
        var world = GatewayWorld()
        world.addGateway(island: 1)
        world.addGateway(island: 2)
        let service = try printer()
        world.publishDevice(island: 1, service)
        world.run(for: .seconds(5))
        #expect(named("Office Printer", on: 2, in: world).count == 1)
        world.withdrawDevice(island: 1, service.id)
        world.run(for: .milliseconds(50))
        #expect(named("Office Printer", on: 2, in: world).isEmpty)
    }

    /// The removal of an island's last service of a type can arrive after the island's
    /// directory entry that no longer lists the type (the removal was lost and sent again):
    /// the importer stops following the type and must drop its imports then, or keep the
    /// service for good — and bring it back when the type is followed again. (Seen as late
    /// withdrawals in the netns loss scenario, RELIABILITY.md.)
    @Test func aWithdrawalOvertakenByTheDirectoryEntryWithoutItsTypeStillRemovesTheImport() throws {
        var world = GatewayWorld()
        world.addGateway(island: 1)
        world.addGateway(island: 2)
        let first = try printer("First Printer")
        world.publishDevice(island: 1, first)
        world.run(for: .seconds(5))
        #expect(named("First Printer", on: 2, in: world).count == 1)

        world.removalDelay = .seconds(1)
        world.withdrawDevice(island: 1, first.id)
        world.run(for: .seconds(3))
        #expect(named("First Printer", on: 2, in: world).isEmpty, "gone, though its removal came after the directory entry")

        // The type comes back with another service: only that one is imported.
        world.removalDelay = .zero
        world.publishDevice(island: 1, try printer("Second Printer", host: "printer2.local", address: "10.1.0.51"))
        world.run(for: .seconds(3))
        #expect(named("Second Printer", on: 2, in: world).count == 1)
        #expect(named("First Printer", on: 2, in: world).isEmpty)
    }

    @Test func sameNameOnTwoIslandsIsSuffixedOnlyWhereItIsImported() throws {
        var world = GatewayWorld()
        world.addGateway(island: 1, islandName: "north")
        world.addGateway(island: 2, islandName: "south")
        world.publishDevice(island: 1, try printer(address: "10.1.0.50"))
        world.publishDevice(island: 2, try printer(host: "other.local", address: "10.2.0.50"))
        world.run(for: .seconds(5))
        let north = world.view(island: 1).map(\.name.value).filter { $0.hasPrefix("Office Printer") }.sorted()
        let south = world.view(island: 2).map(\.name.value).filter { $0.hasPrefix("Office Printer") }.sorted()
        #expect(north == ["Office Printer", "Office Printer (south)"])
        #expect(south == ["Office Printer", "Office Printer (north)"])
    }

    @Test func importsAreNeverExportedAgainByAnyGatewayOfTheImportingIsland() throws {
        var world = GatewayWorld()
        world.addGateway(island: 1)
        world.addGateway(island: 2, priority: 200)
        world.addGateway(island: 2, priority: 1) // a follower sees the import as a foreign service
        world.publishDevice(island: 1, try printer())
        world.run(for: .seconds(6))
        let exportedByIsland2 = world.values.values.flatMap(\.values).filter { value in
            world.gateways.filter { $0.island == 2 }.map(\.machine.settings.id).contains(value.owner)
                && (try? ServiceRecordCodec.decode(value.payload)) != nil
        }
        #expect(exportedByIsland2.isEmpty)
        #expect(named("Office Printer", on: 3, in: world).isEmpty)
    }

    @Test func servicesAReflectorCopiedFromAnotherGatewaysLinkAreNeverExported() throws {
        var world = GatewayWorld()
        world.addGateway(island: 1)
        world.addGateway(island: 2)
        world.addGateway(island: 3)
        world.publishDevice(island: 1, try printer())
        world.run(for: .seconds(6))
        // An Avahi reflector between islands 2 and 3 copies island 2's import (host name kept).
        let imported = try #require(named("Office Printer", on: 2, in: world).first)
        var copy = imported
        copy.name = try InstanceName("Reflected Printer")
        world.publishDevice(island: 3, copy)
        world.run(for: .seconds(2))
        let island3 = world.gateways[2]
        #expect(island3.machine.export.services[copy.id] != nil)
        #expect(island3.machine.export.exported[copy.id] == nil)
        #expect(named("Reflected Printer", on: 1, in: world).isEmpty && named("Reflected Printer", on: 2, in: world).isEmpty)
    }

    @Test func twoLeadersOfOneLinkPublishIdenticalRecordsForOneImport() throws {
        var world = GatewayWorld()
        world.addGateway(island: 1)
        let first = world.addGateway(island: 2, priority: 200)
        let second = world.addGateway(island: 2, priority: 100)
        world.publishDevice(island: 1, try printer())
        world.run(for: .seconds(6))
        world.cutHeartbeats = [[first, second]] // lost heartbeats: both lead
        world.run(for: .seconds(6))
        #expect(world.leaders(island: 2).count == 2)
        // Same name, host and addresses: mDNS sees identical records, not a conflict.
        let publications = [first, second].compactMap { world.gateways[$0].publications.values.first }
        #expect(publications.count == 2 && publications[0] == publications[1])
    }

    /// Issue 18, point 5: 202 printers on one island, where the DHT holds 128 values per island
    /// per type. Status said "202 exported, health ok" while 129 crossed; now 128 are exported
    /// and said to be, the other 74 are capped, and the health and explain say why.
    @Test func exportsAboveTheDHTsLimitPerTypeAreCappedAndReportedSo() throws {
        var world = GatewayWorld()
        let leader = world.addGateway(island: 1)
        world.addGateway(island: 2)
        for index in 1...202 { world.publishDevice(island: 1, try printer(String(format: "Printer %03d", index))) }
        world.run(for: .seconds(6))
        let view = world.gateways[leader].machine.view
        #expect(view.exports.count == 128 && view.cappedExports.count == 74)
        #expect(world.view(island: 2).filter { $0.type.description == "_ipp._tcp" }.count == 128)
        let status = StatusReport.status(view, stats: RendezvousStats(engine: "memory", peers: 1), network: "z2z", uptime: 1)
        #expect(status.services.exported == 128 && status.services.capped == 74)
        #expect(status.health.state == .degraded)
        #expect(status.health.reasons.contains { $0.hasPrefix("74 services not exported: more than 128 of one type (first: _ipp._tcp)") },
                "\(status.health.reasons)")
        let capped = try #require(StatusReport.services(view).first { $0.name == "Printer 202" })
        #expect(capped.route?.path == .capped)
        let trace = try #require(ServiceExplainer(view: view, events: EventLog()).explain("Printer 202._ipp._tcp", dht: [:]).traces.first)
        #expect(!trace.crossed && trace.steps.last?.reason == "type_full")

        // One exported printer leaves: the first capped one takes its place on the other island.
        world.withdrawDevice(island: 1, try printer("Printer 001").id)
        world.run(for: .seconds(1))
        #expect(world.gateways[leader].machine.view.exports.count == 128)
        #expect(named("Printer 129", on: 2, in: world).count == 1)
        #expect(named("Printer 001", on: 2, in: world).isEmpty)
    }

    @Test func leaderKillKeepsTheIslandsServicesVisibleElsewhere() throws {
        var world = GatewayWorld()
        let leader = world.addGateway(island: 1, priority: 200)
        world.addGateway(island: 1, priority: 100)
        world.addGateway(island: 2)
        world.publishDevice(island: 1, try printer())
        world.run(for: .seconds(6))
        #expect(world.leaders(island: 1) == [leader])
        #expect(named("Office Printer", on: 2, in: world).count == 1)
        world.kill(leader)
        // Sample the remote view every 100 ms: it never loses the printer.
        for _ in 0..<60 {
            world.run(for: .milliseconds(100))
            #expect(named("Office Printer", on: 2, in: world).count == 1)
        }
        #expect(world.leaders(island: 1).count == 1 && world.leaders(island: 1) != [leader])
    }

    /// Finding 4 of RELIABILITY.md: the killed leader's value of a service lives on in the
    /// rendezvous; the successor's withdrawal must still take the service away elsewhere.
    @Test func aWithdrawalRightAfterALeaderKillIsGoneFromOtherIslandsAtOnce() throws {
        var world = GatewayWorld()
        let leader = world.addGateway(island: 1, priority: 200)
        let successor = world.addGateway(island: 1, priority: 100)
        world.addGateway(island: 2)
        let service = try printer()
        world.publishDevice(island: 1, service)
        world.run(for: .seconds(6))
        #expect(named("Office Printer", on: 2, in: world).count == 1)
        world.kill(leader)
        world.run(for: .seconds(5))
        #expect(world.leaders(island: 1) == [successor])
        #expect(named("Office Printer", on: 2, in: world).count == 1)
        world.withdrawDevice(island: 1, service.id)
        world.run(for: .milliseconds(500))
        #expect(named("Office Printer", on: 2, in: world).isEmpty)
    }

    @Test func aServiceGoneWhileTheIslandHadNoLeaderLeavesOtherIslandsWhenTheHandoverEnds() throws {
        var world = GatewayWorld()
        let leader = world.addGateway(island: 1, priority: 200)
        world.addGateway(island: 1, priority: 100)
        world.addGateway(island: 2)
        let service = try printer()
        world.publishDevice(island: 1, service)
        world.publishDevice(island: 1, try printer("Desk Printer", host: "desk.local", address: "10.1.0.51"))
        world.run(for: .seconds(6))
        world.kill(leader)
        world.withdrawDevice(island: 1, service.id) // before the successor leads: it never exports it
        world.run(for: .seconds(5))
        #expect(named("Office Printer", on: 2, in: world).count == 1) // the handover keeps the old value a while
        world.run(for: ImportPlanner.handoverGrace)
        #expect(named("Office Printer", on: 2, in: world).isEmpty)
        #expect(named("Desk Printer", on: 2, in: world).count == 1)
    }

    /// Finding 1 of RELIABILITY.md: another island may have joined through one of our
    /// followers; the leader joins through every gateway of its island so the overlays meet.
    @Test func aLeaderGivesItsRendezvousTheIslandsOtherGatewaysAsSeeds() throws {
        var world = GatewayWorld()
        let leader = world.addGateway(island: 1, priority: 200)
        let follower = world.addGateway(island: 1, priority: 100)
        world.run(for: .seconds(6))
        #expect(world.leaders(island: 1) == [leader])
        #expect(world.gateways[leader].seeds == [world.gateways[follower].endpoint])
        #expect(world.gateways[follower].seeds.isEmpty)
        let late = world.addGateway(island: 1, priority: 50)
        world.run(for: .seconds(2))
        #expect(world.gateways[leader].seeds == [world.gateways[follower].endpoint, world.gateways[late].endpoint])
        world.run(for: .seconds(10))
        #expect(world.gateways[leader].seeds.count == 2) // each once
    }

    /// Issue 18, point 6: an advert carries no tag, so one naming an address nobody answers
    /// from is not given to the rendezvous as a seed (it drew DHT traffic there before).
    @Test func aForgedAdvertIsNotASeed() throws {
        var world = GatewayWorld()
        let leader = world.addGateway(island: 1, priority: 200)
        let follower = world.addGateway(island: 1, priority: 100)
        let advert = GatewayAdvert(id: NodeID(w0: 0xf0, w1: 0, w2: 0, w3: 0), priority: 250, port: 7400, network: world.network)
        let forged = ServiceInstance(name: try InstanceName("z2z gateway f0"), type: GatewayAdvert.serviceType,
                                     host: try HostName("forger.local"), port: 7400, txt: advert.txt,
                                     addresses: [try IPAddress("10.1.0.66")])
        world.publishDevice(island: 1, forged)
        world.run(for: .seconds(20))
        #expect(world.leaders(island: 1) == [leader]) // a priority of 250 in an advert alone wins nothing
        #expect(world.gateways[leader].seeds == [world.gateways[follower].endpoint])
    }

    @Test func newLeaderOfTheImportingIslandTakesOverItsImports() throws {
        var world = GatewayWorld()
        world.addGateway(island: 1)
        let importer = world.addGateway(island: 2, priority: 200)
        world.addGateway(island: 2, priority: 100)
        world.publishDevice(island: 1, try printer())
        world.run(for: .seconds(6))
        world.kill(importer) // its imports go with it (Avahi drops a dead client's records)
        world.run(for: .seconds(5))
        #expect(named("Office Printer", on: 2, in: world).count == 1)
    }

    @Test func islandIDIsPersistedAndSharedByTheIslandsGateways() {
        var world = GatewayWorld()
        world.addGateway(island: 1, priority: 5)
        world.addGateway(island: 1, priority: 9)
        world.run(for: .seconds(6))
        let islands = Set(world.gateways.map(\.persistedIsland))
        #expect(islands.count == 1 && islands.first! != nil)
    }
}

/// Admission on the link: heartbeats carry the network key's tag (`HeartbeatCodec`).
struct HeartbeatAdmissionTests {
    let network = NetworkID(rawValue: 0x2a)

    func machine(key: NetworkKey?) -> GatewayMachine {
        var settings = GatewayMachine.Settings(id: NodeID(w0: 1, w1: 0, w2: 0, w3: 0), network: network, priority: 100, port: 7400, seed: 1)
        settings.networkKey = key
        return GatewayMachine(settings: settings)
    }

    func claim(_ key: NetworkKey?) -> [UInt8] {
        let beat = Heartbeat(network: network, sender: NodeID(w0: 9, w1: 9, w2: 9, w3: 9), priority: 255, role: .leader,
                             island: IslandID(rawValue: 77), leader: NodeID(w0: 9, w1: 9, w2: 9, w3: 9), term: 99, sequence: 1, port: 7400)
        return HeartbeatCodec.encode(beat, key: key)
    }

    func rejections(_ effects: [GatewayMachine.Effect]) -> [String] {
        effects.compactMap { if case .fact(.rejected(let reason, _)) = $0 { reason } else { nil } }
    }

    @Test func aGatewayWithTheKeyIgnoresAnOutsidersClaimToLeadAndSignsItsOwnHeartbeats() {
        let key = NetworkKey(secret: Array("the island's network key".utf8), network: network)!
        var gateway = machine(key: key)
        let from = Endpoint(ipv4: 10, 0, 0, 66, port: 7400)
        #expect(rejections(gateway.handle(.heartbeat(claim(nil), from: from), now: .zero)) == ["heartbeat_missing_tag"])
        let forger = NetworkKey(secret: Array("a guess at the island's key".utf8), network: network)!
        #expect(rejections(gateway.handle(.heartbeat(claim(forger), from: from), now: .zero)) == ["heartbeat_bad_tag"])
        #expect(gateway.island != IslandID(rawValue: 77), "the outsider's island was not adopted")
        #expect(rejections(gateway.handle(.heartbeat(claim(key), from: from), now: .zero)).isEmpty)
        // What it sends carries the tag.
        var sent: [[UInt8]] = []
        for t in stride(from: 0.0, through: 10, by: 0.5) {
            for case .sendHeartbeat(let bytes, _) in gateway.handle(.tick, now: .zero + .seconds(t)) { sent.append(bytes) }
        }
        #expect(!sent.isEmpty)
        #expect(sent.allSatisfy { (try? HeartbeatCodec.decode($0, key: key)) != nil })
    }
}
