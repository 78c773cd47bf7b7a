import ArgumentParser
import Foundation
import Z2ZAPI

/// `z2z explain`: why a service does or does not cross between islands.
struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Trace a service through the gateway and say where it stops and why.",
        discussion: """
            Give an instance ("Office Printer._ipp._tcp", or just "Office Printer") or a \
            type (_ipp._tcp: every instance of it). For a service of this island the steps \
            are: seen on the link, permitted by the export policy (which rule), exported \
            under which DHT key, present in the DHT, and which other islands' leaders \
            subscribe to it. For a service of another island: present in the DHT, put by \
            which leaders, permitted by the import policy, imported on this link under \
            which name. Each instance ends with one line saying where it stops and why.

            Ask the island's leader for the whole story: a follower neither exports nor \
            imports, and says so. Exit status 0 when every instance crosses, 3 when one \
            stops or nothing matches.
            """
    )

    @OptionGroup var daemon: DaemonConnection

    @Argument(help: ArgumentHelp("An instance name (with or without its type) or a service type.", valueName: "instance-or-type"))
    var service: String

    func run() async throws {
        let answer = try await daemon.show(APIPaths.explain, query: [URLQueryItem(name: "service", value: service)],
                                           as: ExplainResponse.self, render: Self.render)
        if answer.traces.isEmpty || answer.traces.contains(where: { !$0.crossed }) { throw ExitCode(3) }
    }

    static func render(_ answer: ExplainResponse) -> String {
        var text = ""
        for trace in answer.traces {
            let direction = trace.direction == .outbound ? "from this island" : "from island \(trace.island)"
            text += "\(trace.instance) [\(trace.type)] \(direction)\n"
            for step in trace.steps {
                let mark = switch step.outcome {
                case .passed: "ok  "
                case .failed: "STOP"
                case .unknown: " ?  "
                default: " -  "
                }
                text += "  \(mark) \(step.step.rawValue.replacingOccurrences(of: "_", with: " ")): \(step.detail)\n"
            }
            text += "  => \(trace.verdict)\n\n"
        }
        return text + answer.summary + "\n"
    }
}

/// `z2z events`: the gateway's recent events.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the gateway's recent events: transitions, services, exports, imports, rejections with reasons.",
        discussion: "--follow keeps asking (every second) and prints new events as they come."
    )

    @OptionGroup var daemon: DaemonConnection

    @Flag(name: [.customShort("f"), .long], help: "Keep printing new events.")
    var follow = false

    func run() async throws {
        var last: UInt64 = 0
        repeat {
            let answer = try await daemon.show(APIPaths.events, query: [URLQueryItem(name: "after", value: "\(last)")],
                                               as: EventsResponse.self) { Self.render($0.events) }
            last = answer.last
            if follow { try await Task.sleep(for: .seconds(1)) }
        } while follow
    }

    static func render(_ events: [GatewayEvent]) -> String {
        events.map { event in
            let time = event.time.formatted(.iso8601)
            return "\(time) \(event.kind.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) " +
                (event.subject.map { "\($0): " } ?? "") + event.message + (event.reason.map { " [\($0)]" } ?? "") + "\n"
        }.joined()
    }
}

/// `z2z dht`: the DHT node under the rendezvous.
struct DHT: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dht",
        abstract: "Show the DHT node: routing table, stored values and running lookups."
    )

    @OptionGroup var daemon: DaemonConnection

    func run() async throws {
        try await daemon.show(APIPaths.dht, as: DHTResponse.self, render: Self.render)
    }

    static func render(_ dht: DHTResponse) -> String {
        var text = "engine \(dht.engine), node \(dht.nodeID.prefix(16))…, stage \(dht.stage)" +
            (dht.overlayID.map { ", overlay \($0)" } ?? "") + (dht.rttMilliseconds.map { String(format: ", rtt %.1f ms", $0) } ?? "") + "\n"
        guard dht.available else { return text + "(this engine does not show its table)\n" }
        if let b = dht.bridging, b.unreachableMembers + b.bridgedMembers + b.forwardedRecords > 0 {
            text += "across NAT: \(b.unreachableMembers) members unreachable from here (read through bridges), "
                + "\(b.bridgedMembers) members bridged here, \(b.forwardedRecords) of their records forwarded\n"
        }
        var table = TextTable("CONTACT", "ENDPOINT", "BUCKET", "LAST SEEN", "FAILURES")
        for contact in dht.routingTable {
            table.add(String(contact.id.prefix(16)), contact.endpoint, "\(contact.bucket)",
                      String(format: "%.0f s ago", contact.lastSeenSecondsAgo), "\(contact.failures)")
        }
        text += "\nrouting table: \(dht.routingTable.count) contacts\n" + (dht.routingTable.isEmpty ? "" : table.rendered)
        var values = TextTable("KEY", "OWNER", "VALUE", "SEQUENCE", "BYTES", "EXPIRES")
        for value in dht.storedValues {
            values.add(String(value.key.prefix(16)), String(value.owner.prefix(16)), value.valueID, "\(value.sequence)",
                       value.tombstone ? "tombstone" : "\(value.bytes)", String(format: "in %.0f s", value.expiresInSeconds))
        }
        text += "\nstored values: \(dht.storedValues.count)\n" + (dht.storedValues.isEmpty ? "" : values.rendered)
        text += "\nactive lookups: \(dht.activeLookups.count)\n"
        for lookup in dht.activeLookups {
            text += "  \(lookup.purpose) \(lookup.target.prefix(16))…: \(lookup.queries) queries, \(lookup.inFlight) in flight\n"
        }
        return text
    }
}
