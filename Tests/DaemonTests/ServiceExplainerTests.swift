import Daemon
import DNSSD
import Foundation
import Gateway
import GatewayReports
import Island
import LocalDomain
import Policy
import Primitives
import Rendezvous
import Testing
import Z2ZAPI

/// `explain` over in-memory islands (link, rendezvous, heartbeats) with real drivers: a
/// permitted service crosses, a denied one stops at the export policy with its rule, and a
/// withdrawn one stops at the link with when it left. Real time with short election timers;
/// every wait is a poll with a deadline.
@Suite(.timeLimit(.minutes(1)))
struct ServiceExplainerTests {
    /// Exports of SSH denied (rule 1); everything else permitted by default.
    static let policy = Policy(rules: [PolicyRule(.deny, direction: .export, type: .exact(try! ServiceType("_ssh._tcp")), line: 12)])

    struct Gateway {
        let driver: GatewayDriver
        let status: GatewayStatus
        let device: MemoryDomain
    }

    static func gateway(_ index: Int, mesh: MemoryMesh, network: MemoryDatagramNetwork) throws -> Gateway {
        let link = MemoryLink()
        let id = NodeID(w0: UInt64(index), w1: 7, w2: 7, w3: 7)
        var settings = GatewayMachine.Settings(id: id, network: NetworkID(rawValue: 9), priority: 100, port: 7400,
                                               islandName: "island-\(index)", seed: UInt64(index))
        settings.election.heartbeatInterval = .milliseconds(100)
        settings.election.listenWindow = .milliseconds(300)
        let machine = GatewayMachine(settings: settings, policy: Self.policy)
        let domain = MemoryDomain(link: link, hostName: try HostName("gw\(index).local"), addresses: [try IPAddress("10.\(index).0.1")])
        let device = MemoryDomain(link: link, hostName: try HostName("device\(index).local"), addresses: [try IPAddress("10.\(index).0.50")])
        let rendezvous = MemoryRendezvous(owner: id, mesh: mesh)
        let driver = GatewayDriver(machine: machine, domain: domain, rendezvous: rendezvous,
                                   link: network.link(at: Endpoint(ipv4: 10, UInt8(index), 0, 1, port: 7400)))
        let status = GatewayStatus(driver: driver, rendezvous: rendezvous, network: "z2z")
        return Gateway(driver: driver, status: status, device: device)
    }

    @Test func permittedDeniedAndWithdrawnServicesAreTracedToWhereTheyStop() async throws {
        let mesh = MemoryMesh(), network = MemoryDatagramNetwork()
        let north = try Self.gateway(1, mesh: mesh, network: network)
        let south = try Self.gateway(2, mesh: mesh, network: network)
        let running = [Task { await north.driver.run() }, Task { await south.driver.run() }]
        defer { running.forEach { $0.cancel() } }

        _ = try await north.device.publish(Publication(name: try InstanceName("Office Printer"), type: try ServiceType("_ipp._tcp"), port: 631))
        _ = try await north.device.publish(Publication(name: try InstanceName("Build Box"), type: try ServiceType("_ssh._tcp"), port: 22))
        let scanner = try await north.device.publish(Publication(name: try InstanceName("Scanner"), type: try ServiceType("_uscan._tcp"), port: 80))

        // Permitted: crosses, and south imported it under its name.
        let printer = try await eventually("printer imported on south") {
            let trace = await north.status.explain("Office Printer._ipp._tcp").traces.first
            return trace?.crossed == true ? trace : nil
        }
        #expect(printer.direction == .outbound)
        #expect(printer.steps.map(\.step) == [.seenLocally, .exportPolicy, .exported, .inDHT, .seenByLeaders])
        #expect(printer.steps[1].detail.contains("default"))
        #expect(printer.steps[2].detail.contains("type/_ipp._tcp"))
        #expect(printer.steps[4].detail.contains("island-2"))
        let inbound = try await eventually("south explains the import") {
            let trace = await south.status.explain("_ipp._tcp").traces.first
            return trace?.crossed == true ? trace : nil
        }
        #expect(inbound.direction == .inbound)
        #expect(inbound.island.name == "island-1")
        #expect(inbound.steps.last?.step == .imported)
        #expect(inbound.verdict.contains("Office Printer"))

        // Denied: stops at the export policy, naming the rule and its line.
        let ssh = try #require(await north.status.explain("Build Box").traces.first)
        #expect(!ssh.crossed)
        #expect(ssh.steps.last?.step == .exportPolicy)
        #expect(ssh.steps.last?.reason == "denied_by_policy")
        #expect(ssh.verdict.contains("deny export type=_ssh._tcp"))
        #expect(ssh.verdict.hasPrefix("stops at export_policy"))

        // Withdrawn: once it left, it stops at the link, with when; south forgot it too.
        _ = try await eventually("scanner exported") {
            await north.status.explain("Scanner._uscan._tcp").traces.first?.crossed == true ? true : nil
        }
        await north.device.withdraw(scanner)
        let gone = try await eventually("scanner withdrawn") {
            let trace = await north.status.explain("Scanner._uscan._tcp").traces.first
            return trace?.steps.first?.reason == "withdrawn" ? trace : nil
        }
        #expect(!gone.crossed)
        #expect(gone.verdict.hasPrefix("stops at seen_locally: withdrawn at"))
        let goneSouth = try await eventually("south explains the withdrawal") {
            let trace = await south.status.explain("Scanner._uscan._tcp").traces.first
            return trace?.steps.first?.reason == "withdrawn" ? trace : nil
        }
        #expect(goneSouth.direction == .inbound && !goneSouth.crossed)

        // Nothing by that name anywhere: an empty answer that says so.
        let nothing = await north.status.explain("Nowhere._ipp._tcp")
        #expect(nothing.traces.isEmpty && nothing.summary.contains("no service matching"))

        // The events behind it, in order, with reasons.
        let events = await north.status.events(after: 0).events
        #expect(events.contains { $0.kind == .exportSkipped && $0.subject == "Build Box._ssh._tcp" && $0.reason == "denied_by_policy" })
        #expect(events.contains { $0.kind == .serviceGone && $0.subject == "Scanner._uscan._tcp" })
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.sequence + 1 == $1.sequence })
    }

}

/// The event ring: bounded, sequence numbers keep counting, `after` returns only newer ones.
struct EventLogTests {
    @Test func keepsTheNewestEventsAndCountsOnPastTheCapacity() {
        var log = EventLog(capacity: 3)
        for number in 1...5 { log.append(.serviceSeen, subject: "s\(number)", message: "m") }
        #expect(log.events.map(\.sequence) == [3, 4, 5])
        #expect(log.events(after: 0).map(\.sequence) == [3, 4, 5])
        #expect(log.events(after: 4).map(\.sequence) == [5])
        #expect(log.events(after: 5).isEmpty)
        #expect(log.entries.allSatisfy { $0.fact == nil }, "no fact stands behind an adapter's event")
    }
}
