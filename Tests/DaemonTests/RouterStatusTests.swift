@testable import Daemon
import DNSSD
import Foundation
import Gateway
import GatewayReports
import Island
import Primitives
import Testbed
import Testing
import Z2ZAPI

/// A router's status follows both sides of each link (issue 16): the in-process exchange,
/// and the link's gateway towards the DHT — its role, stage, peers, imports and exports.
struct RouterStatusTests {
    static let network = NetworkID(name: "z2z")

    /// A link gateway after `seconds` alone on its link: a candidate, then the leader.
    static func gateway(_ link: String, index: Int, seconds: Double) -> RouterStatus.LinkGatewayState {
        let settings = GatewayMachine.Settings(id: NodeID(w0: UInt64(index + 1), w1: 0, w2: 0, w3: 0), network: network, priority: 100,
                                               port: UInt16(7400 + 4 * index), islandName: link, seed: 1)
        var machine = GatewayMachine(settings: settings)
        _ = machine.handle(.tick, now: .zero)
        _ = machine.handle(.tick, now: .zero + .seconds(seconds))
        return RouterStatus.LinkGatewayState(
            link: link, snapshot: GatewayDriver.Snapshot(view: machine.view, events: EventLog(), started: .now),
            stats: nil, port: settings.port)
    }

    static func snapshot(_ exchange: LinkExchange) -> LinkRouter.Snapshot {
        LinkRouter.Snapshot(exchange: exchange, responders: exchange.links.map { _ in .running }, events: EventLog(), started: .now)
    }

    @Test func eachLinkShowsItsGatewayAndWhetherItIsInTheExchange() throws {
        var exchange = LinkExchange(links: [(name: "staff", interface: "lan0"), (name: "students", interface: "lan1")], led: false)
        _ = exchange.setLed(0, true, now: .zero)
        let gateways = [Self.gateway("staff", index: 0, seconds: 5), Self.gateway("students", index: 1, seconds: 1)]
        let status = RouterStatus.status(Self.snapshot(exchange), gateways: gateways, nodeID: "box", network: "z2z")
        let links = try #require(status.links)
        #expect(links.map(\.inExchange) == [true, false])
        let staff = try #require(links[0].gateway), students = try #require(links[1].gateway)
        #expect(staff.role == .leader && staff.leaderID == staff.nodeID && staff.port == 7400)
        #expect(staff.stage == .interconnection && staff.island != nil)
        #expect(students.role == .candidate && students.leaderID == nil && students.stage == .bootstrapping && students.port == 7404)
        #expect(staff.imported == 0 && staff.exported == 0 && staff.peerCount == 0)
        // The router leads while any of its link gateways does; its stage is the leading ones'.
        #expect(status.role == .leader && status.stage == .interconnection)
    }

    @Test func aRouterWhoseLinkGatewaysAllWaitIsACandidateStillBootstrapping() {
        let exchange = LinkExchange(links: [(name: "staff", interface: "lan0")], led: false)
        let status = RouterStatus.status(Self.snapshot(exchange), gateways: [Self.gateway("staff", index: 0, seconds: 1)],
                                         nodeID: "box", network: "z2z")
        #expect(status.role == .candidate && status.stage == .bootstrapping && status.leaderID == nil)
    }

    @Test func metricsSayPerLinkWhoLeadsAndWhatCrossedThroughTheDHT() throws {
        let exchange = LinkExchange(links: [(name: "staff", interface: "lan0")], led: true)
        let status = RouterStatus.status(Self.snapshot(exchange), gateways: [Self.gateway("staff", index: 0, seconds: 5)],
                                         nodeID: "box", network: "z2z")
        let metrics = GatewayMetrics()
        metrics.scrape(links: status.links ?? [])
        let text = try PrometheusText(metrics.exposition())
        #expect(text.value("z2z_link_gateway_leader", ["link": "staff"]) == 1)
        #expect(text.value("z2z_link_in_exchange", ["link": "staff"]) == 1)
        #expect(text.value("z2z_link_dht_services", ["link": "staff", "direction": "exported"]) == 0)
        #expect(text.value("z2z_link_gateway_peers", ["link": "staff"]) == 0)
    }

    /// A link's state directory from before its island came from the box's node id too is
    /// moved to the new name, keeping the link gateway's identity; an existing one is kept.
    @Test func aLinkStateDirectoryNamedAfterTheNameAloneIsMovedToItsNewName() throws {
        let files = FileManager.default
        let state = files.temporaryDirectory.appendingPathComponent("z2z-link-\(UInt64.random(in: 0 ... .max))").path
        defer { try? files.removeItem(atPath: state) }
        let link = LinkExchange(links: [(name: "staff", interface: "lan0")], box: NodeID(w0: 9, w1: 0, w2: 0, w3: 0)).links[0]
        let old = state + "/link-\(LinkExchange.Link.island(named: "staff"))", new = state + "/link-\(link.island)"
        try files.createDirectory(atPath: old, withIntermediateDirectories: true)
        try Data("identity".utf8).write(to: URL(fileURLWithPath: old + "/identity"))
        try GatewayDaemon.moveNameOnlyLinkDirectory(of: link, to: new, in: state)
        #expect(!files.fileExists(atPath: old))
        #expect(files.contents(atPath: new + "/identity") == Data("identity".utf8))
        // A new directory is never replaced by an old one.
        try files.createDirectory(atPath: old, withIntermediateDirectories: true)
        try GatewayDaemon.moveNameOnlyLinkDirectory(of: link, to: new, in: state)
        #expect(files.fileExists(atPath: old) && files.contents(atPath: new + "/identity") == Data("identity".utf8))
    }
}
