import ArgumentParser
import Foundation
import Z2ZAPI

/// `z2z status`: is the gateway working, and if not, why.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show whether the gateway works, and if not, why.",
        discussion: """
            Shows this gateway's island, its role (leader, follower or candidate), the \
            island's leader, the stage (bootstrapping, interconnection, structure, merging), \
            peers, service counts, the avahi-daemon connection and the gateway's health.

            Exit status: 0 healthy, 2 degraded (working, but see the reasons), 1 error or \
            daemon unreachable.
            """
    )

    @OptionGroup var daemon: DaemonConnection

    func run() async throws {
        let status = try await daemon.show(APIPaths.status, as: StatusResponse.self, render: Self.render)
        switch status.health.state {
        case .ok: return
        case .degraded: throw ExitCode(2)
        default: throw ExitCode.failure
        }
    }

    static func render(_ status: StatusResponse) -> String {
        var lines: [String] = []
        lines.append("island    \(status.island)   network \(status.network)")
        let leader: String
        if status.role == .leader {
            leader = "this gateway"
        } else {
            leader = status.leaderID.map(Human.short) ?? "none yet"
        }
        lines.append("role      \(status.role)   (node \(Human.short(status.nodeID)); leader: \(leader))")
        lines.append("stage     \(status.stage)" + (status.overlayID.map { "   overlay \(Human.short($0))" } ?? ""))
        lines.append("peers     \(status.peerCount)")
        let counts = status.services
        let relayed = counts.relayed?.values.reduce(0, +) ?? 0
        let refused = counts.refused ?? 0
        lines.append("services  \(counts.local) local, \(counts.imported) imported" + (relayed > 0 ? " (\(relayed) relayed)" : "") +
                     (refused > 0 ? ", \(refused) refused by avahi-daemon" : "") + ", \(counts.exported) exported" +
                     ((counts.capped ?? 0) > 0 ? " (\(counts.capped ?? 0) more not: the DHT's limit per type)" : ""))
        lines.append("avahi     \(status.avahi.state)" + (status.avahi.detail.map { " (\($0))" } ?? ""))
        lines.append("uptime    \(Human.duration(status.uptimeSeconds))")
        lines.append("health    \(status.health.state)")
        for reason in status.health.reasons { lines.append("          - \(reason)") }
        if let links = status.links, !links.isEmpty {
            // Router mode: each link an island of its own; IMPORTED/HELD are the in-process
            // exchange's, GATEWAY to TO DHT the link's gateway towards the rest of the network.
            var table = TextTable("LINK", "INTERFACE", "ISLAND", "LOCAL", "IMPORTED", "HELD", "AVAHI", "GATEWAY", "STAGE", "PEERS",
                                  "FROM DHT", "TO DHT")
            var elsewhere: [String] = []
            for link in links {
                let gateway = link.gateway
                let role = gateway.map { gateway in
                    gateway.role == .follower ? "follower of \(gateway.leaderID.map(Human.short) ?? "?")" : "\(gateway.role)"
                } ?? "-"
                table.add(link.name, link.interface, Human.short(link.island), "\(link.local)",
                          link.inExchange == false ? "-" : "\(link.imported)", "\(link.held)", "\(link.avahi.state)", role,
                          gateway.map { "\($0.stage)" } ?? "-", gateway.map { "\($0.peerCount)" } ?? "-",
                          gateway.map { "\($0.imported)" } ?? "-", gateway.map { "\($0.exported)" } ?? "-")
                if link.inExchange == false { elsewhere.append(link.name) }
            }
            lines.append("links")
            lines.append(table.rendered.trimmingCharacters(in: .newlines))
            for name in elsewhere {
                lines.append("link \(name) is led by another gateway: it and the other links reach each other through the DHT")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `z2z islands`: the islands this gateway knows.
struct Islands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the islands this gateway knows, its own first.",
        discussion: "The island marked * is this gateway's own. LAST SEEN is when it last heard of the island."
    )

    @OptionGroup var daemon: DaemonConnection

    func run() async throws {
        try await daemon.show(APIPaths.islands, as: IslandsResponse.self) { Self.render($0.islands) }
    }

    static func render(_ islands: [IslandInfo], now: Date = Date()) -> String {
        guard !islands.isEmpty else { return "No islands known yet.\n" }
        var table = TextTable("ISLAND", "NAME", "LEADER", "LEADER ENDPOINT", "LAST SEEN", "SERVICES")
        for island in islands {
            table.add((island.isLocal ? "*" : " ") + island.id, island.name ?? "-", Human.short(island.leaderID),
                      island.leaderEndpoint ?? "-", island.isLocal ? "here" : Human.ago(island.lastSeen, now: now),
                      String(island.serviceCount))
        }
        return table.rendered
    }
}

/// `z2z peers`: gateways on this island and leaders of other islands.
struct Peers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the gateways on this island and the other islands' leaders this gateway talks to.",
        discussion: "STATE is alive, suspect (missed heartbeats or requests) or unreachable; RTT is the last round trip."
    )

    @OptionGroup var daemon: DaemonConnection

    func run() async throws {
        try await daemon.show(APIPaths.peers, as: PeersResponse.self) { Self.render($0.peers) }
    }

    static func render(_ peers: [PeerInfo], now: Date = Date()) -> String {
        guard !peers.isEmpty else { return "No peers.\n" }
        var table = TextTable("PEER", "ENDPOINT", "KIND", "ROLE", "ISLAND", "RTT", "STATE", "LAST HEARD")
        for peer in peers {
            let kind = peer.kind == .islandGateway ? "this island" : peer.kind == .remoteLeader ? "other island" : peer.kind.rawValue
            table.add(Human.short(peer.id), peer.endpoint, kind, peer.role?.rawValue ?? "-",
                      peer.island?.description ?? "-", peer.rttMilliseconds.map { String(format: "%.1f ms", $0) } ?? "-",
                      peer.state.rawValue, Human.ago(peer.lastHeard, now: now))
        }
        return table.rendered
    }
}

/// `z2z sip`: the SIP user agents this gateway redirects to, the phones registered with it,
/// and the contacts it checks.
struct SIP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the SIP user agents this gateway redirects to, the phones registered with it, and their health.",
        discussion: """
            Every SIP phone announced over DNS-SD (_sipuri._udp, _sip._udp, ...) on this island \
            or imported from another. An INVITE for an AOR listed here, sent to this gateway's \
            port 5060, is answered 302 with the CONTACT shown (forwarded to it with \
            [sip] mode = "proxy"); sip:USER@<this gateway> reaches every AOR with that user; \
            any other AOR gets 404. Then the phones registered with this gateway (REGISTERED \
            AOR, with the seconds left), and the contacts the gateway checks with OPTIONS: \
            alive, unknown (no answer yet) or dead (callers get 480).
            """
    )

    @OptionGroup var daemon: DaemonConnection

    func run() async throws {
        try await daemon.show(APIPaths.sip, as: SIPResponse.self) { response in
            var text = Self.render(response.agents)
            if let registrations = response.registrations, !registrations.isEmpty {
                var table = TextTable("REGISTERED AOR", "CONTACT", "EXPIRES IN")
                for registration in registrations {
                    table.add(registration.addressOfRecord, registration.contact, "\(registration.expiresInSeconds) s")
                }
                text += "\n" + table.rendered
            }
            if let checks = response.contactChecks, !checks.isEmpty {
                var table = TextTable("CHECKED CONTACT", "HEALTH", "MISSES", "LAST ANSWER")
                for check in checks {
                    table.add(check.contact, check.health, "\(check.misses)",
                              check.lastAnswerSecondsAgo.map { String(format: "%.1f s ago", $0) } ?? "never")
                }
                text += "\n" + table.rendered
            }
            return text
        }
    }

    static func render(_ agents: [SIPAgentInfo]) -> String {
        guard !agents.isEmpty else { return "No SIP user agents known.\n" }
        var table = TextTable("AOR", "ISLAND", "CONTACT", "INSTANCE")
        for agent in agents {
            table.add(agent.addressOfRecord, agent.island.description, agent.contacts.joined(separator: " "), agent.instance)
        }
        return table.rendered
    }
}
