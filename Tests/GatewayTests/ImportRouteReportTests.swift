import DNSSD
import Foundation
@testable import Gateway
import GatewayReports
import Island
import LocalDomain
import Primitives
import Policy
import Rendezvous
import Testing
import Z2ZAPI

/// How an import reaches its service (issue 14, item 6): `z2z services`, `z2z explain`, the
/// events and the status counts all say it in the same words, from what the import planner
/// recorded — direct, relayed via which leader and why, or held back as unreachable.
struct ImportRouteWordsTests {
    static let leader = NodeID(w0: 0x3fa2_c1d0_0000_0001, w1: 0, w2: 0, w3: 0)

    @Test(arguments: [
        (RelayReason.always, "relayed via leader 3fa2c1d0: the relay mode is always"),
        (.linkLocalOnly, "relayed via leader 3fa2c1d0: link-local addresses only"),
        (.overlappingPrefixes, "relayed via leader 3fa2c1d0: its addresses overlap this island's LAN prefixes"),
        (.unreachable, "relayed via leader 3fa2c1d0: no direct connection (a TCP connect failed)"),
        (.lanNotRouted, "relayed via leader 3fa2c1d0: LAN not routed"),
    ])
    func aRelayedImportNamesItsLeaderAndWhy(reason: RelayReason, words: String) {
        #expect(ImportRoute.words(reason, leader: Self.leader) == words)
        let route = ImportRoute(imported(relayed: reason, leader: Self.leader))
        #expect(route == ImportRoute(path: .relayed, reason: reason.rawValue, relayLeader: "\(Self.leader)", summary: words))
    }

    @Test func aDirectImportSaysDirect() {
        #expect(ImportRoute.words(nil, leader: nil) == "direct")
        #expect(ImportRoute.words(nil, leader: Self.leader) == "direct", "a leader without a reason is not a relay")
        #expect(ImportRoute(imported(relayed: nil, leader: nil)) == ImportRoute(path: .direct, summary: "direct"))
    }

    @Test func onlyAnUnreachableHoldIsARoute() {
        #expect(ImportRoute(held: .unreachable("no routable address, and the relay is off"))
            == ImportRoute(path: .unreachable, summary: "unreachable: no routable address, and the relay is off"))
        #expect(ImportRoute(held: .notFromCurrentLeader) == nil)
        #expect(ImportRoute(held: .denied(Verdict(action: .deny, ruleNumber: 1, rule: nil))) == nil)
    }

    func imported(relayed: RelayReason?, leader: NodeID?) -> ImportPlanner.Imported {
        let publication = Publication(name: try! InstanceName("Camera"), type: try! ServiceType("_rtsp._tcp"), port: 554)
        return ImportPlanner.Imported(record: try! Fixture.record("Camera", type: "_rtsp._tcp"), publication: publication,
                                      relayed: relayed, relayLeader: leader)
    }
}

/// A leader with the relay on imports a link-local-only camera through island B's relay and
/// holds back a sensor that has no address and no relay: the reports say so.
struct ImportRouteReportTests {
    static let network = NetworkID(rawValue: 0x2a)
    static let leaderB = ImportRouteWordsTests.leader

    struct Leader {
        var machine: GatewayMachine
        var events = EventLog()
        var effects: [GatewayMachine.Effect] = []

        mutating func handle(_ event: GatewayMachine.Event, at seconds: Double) {
            let produced = machine.handle(event, now: .zero + .seconds(seconds))
            effects += produced
            for case .fact(let fact) in produced { events.append(fact) }
        }
    }

    static func leader() throws -> Leader {
        var settings = GatewayMachine.Settings(id: NodeID(w0: 1, w1: 0, w2: 0, w3: 0), network: network, priority: 100, port: 7400,
                                               island: Fixture.islandA, islandName: "north", seed: 1)
        settings.relayMode = .auto
        settings.localPrefixes = [try IPPrefix("192.168.1.0/24")]
        settings.localAddresses = [try IPAddress("192.168.1.2")]
        var leader = Leader(machine: GatewayMachine(settings: settings))
        leader.handle(.tick, at: 0)
        leader.handle(.tick, at: 3.1)
        #expect(leader.machine.view.isLeading)
        return leader
    }

    static func put(_ record: ServiceRecord, valueID: UInt64, into leader: inout Leader) {
        let value = RendezvousValue(key: RecordKeys.type(record.type, network: network), owner: leaderB, valueID: valueID,
                                    sequence: 1, payload: ServiceRecordCodec.encode(record))
        leader.handle(.rendezvous(.upserted(value)), at: 4)
    }

    /// The camera, relayed (its relay listener opened on port 40100), and the sensor, held:
    /// link-local only, and its island offers no relay.
    static func importing() throws -> Leader {
        var leader = try Self.leader()
        var camera = try Fixture.record("Camera", type: "_rtsp._tcp", addresses: [])
        camera.relay = RelayOffer(endpoints: [Endpoint(ipv4: 100, 64, 2, 1, port: 7403)], lanPrefixes: [try IPPrefix("10.0.2.0/24")],
                                  lanRouted: false)
        put(camera, valueID: 1, into: &leader)
        #expect(leader.effects.contains { if case .relay(.openRelay(camera.id, _)) = $0 { true } else { false } })
        leader.handle(.relayOpened(camera.id, port: 40_100, failure: nil), at: 4.5)
        put(try Fixture.record("Sensor", type: "_coap._udp", addresses: ["169.254.7.7"]), valueID: 2, into: &leader)
        return leader
    }

    @Test func servicesShowTheRelayedImportAndTheUnreachableOne() throws {
        let view = try Self.importing().machine.view
        let services = StatusReport.services(view)
        let camera = try #require(services.first { $0.name == "Camera" })
        #expect(camera.port == 40_100 && camera.origin == .imported && camera.local)
        #expect(camera.route == ImportRoute(path: .relayed, reason: "link_local_only", relayLeader: "\(Self.leaderB)",
                                            summary: "relayed via leader 3fa2c1d0: link-local addresses only"))
        let sensor = try #require(services.first { $0.name == "Sensor" }, "held back as unreachable, and listed")
        #expect(sensor.origin == .imported && !sensor.local && sensor.island?.name == "island-b")
        #expect(sensor.route == ImportRoute(path: .unreachable,
                                            summary: "unreachable: no routable address, and its island offers no relay"))
        #expect(services.map(\.name) == ["Camera", "Sensor"])
    }

    @Test func statusCountsRelayedImportsByReason() throws {
        let status = StatusReport.status(try Self.importing().machine.view, stats: RendezvousStats(engine: "memory"), network: "z2z", uptime: 1)
        #expect(status.services.imported == 1)
        #expect(status.services.relayed == ["link_local_only": 1])
    }

    @Test func explainSaysHowAnImportCrossesAndWhyAHeldOneDoesNot() throws {
        let leader = try Self.importing()
        let explainer = ServiceExplainer(view: leader.machine.view, events: leader.events)
        let camera = try #require(explainer.explain("Camera", dht: [:]).traces.first)
        #expect(camera.crossed)
        #expect(camera.verdict == "crosses: imported on this link as \"Camera\", relayed via leader 3fa2c1d0: link-local addresses only")
        #expect(camera.steps.last?.detail.hasSuffix(", relayed via leader 3fa2c1d0: link-local addresses only") == true)
        #expect(camera.route?.path == .relayed)

        let sensor = try #require(explainer.explain("Sensor", dht: [:]).traces.first)
        #expect(!sensor.crossed)
        #expect(sensor.steps.last?.reason == "unreachable")
        #expect(sensor.verdict == "stops at imported: received but held: unreachable: no routable address, and its island offers no relay")
        #expect(sensor.route?.path == .unreachable)
    }

    /// An import avahi-daemon refused (issue 18, point 5): not counted as imported, health
    /// degraded with the reason, and services and explain say it is not on the link.
    @Test func aRefusedImportIsDegradedHealthNotAnImportAndSaysSoEverywhere() throws {
        let leader = try Self.importing()
        let view = leader.machine.view
        let key = try #require(view.imports.keys.first { $0.name.value == "Camera" })
        let refused = [key: ImportRefusal(reason: "Too many clients", attempts: 3, retryInSeconds: 3.2)]
        let status = StatusReport.status(view, stats: RendezvousStats(engine: "memory"), network: "z2z", uptime: 1, refused: refused)
        #expect(status.services.imported == 0 && status.services.refused == 1)
        #expect(status.health.state == .degraded)
        #expect(status.health.reasons.contains("1 import refused by avahi-daemon, retried with backoff (first: Camera._rtsp._tcp: Too many clients)"),
                "\(status.health.reasons)")
        let camera = try #require(StatusReport.services(view, refused: refused).first { $0.name == "Camera" })
        #expect(camera.route == ImportRoute(path: .refused, reason: "avahi_refused",
                                            summary: "refused by avahi-daemon (Too many clients); 3 attempts, next in 4 s"))
        let trace = try #require(ServiceExplainer(view: view, events: leader.events, refused: refused).explain("Camera", dht: [:]).traces.first)
        #expect(!trace.crossed)
        #expect(trace.verdict == "stops at imported: not published on this link: refused by avahi-daemon (Too many clients); 3 attempts, next in 4 s")
        // Published again: nothing refused, and no reason of its own in the health.
        let healed = StatusReport.status(view, stats: RendezvousStats(engine: "memory"), network: "z2z", uptime: 1)
        #expect(healed.services.imported == 1 && healed.services.refused == 0)
        #expect(!healed.health.reasons.contains { $0.contains("refused") })
    }

    @Test func theImportEventSaysItIsRelayedAndWhy() throws {
        let events = try Self.importing().events.events
        let imported = try #require(events.first { $0.kind == .imported })
        #expect(imported.message == "from island island-b as \"Camera\", relayed via leader 3fa2c1d0: link-local addresses only")
        #expect(events.contains { $0.kind == .importHeld && $0.message.contains("no routable address") })
    }

    @Test func aDirectImportsEventSaysNothingOfRoutesUntilItChanges() throws {
        let record = try Fixture.record("Printer")
        let publication = Publication(name: record.name, type: record.type, port: 631)
        let direct = ImportPlanner.Imported(record: record, publication: publication)
        #expect(GatewayEvents.event(for: .imported(record.id, direct, new: true))?.message == "from island island-b as \"Printer\"")
        #expect(GatewayEvents.event(for: .imported(record.id, direct, new: false))?.message == "from island island-b as \"Printer\", direct")
    }
}
