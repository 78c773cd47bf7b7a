import Daemon
import DNSSD
import GatewayReports
import Foundation
import Testbed
import Testing
import Z2ZAPI

/// `/metrics` as a Prometheus server reads it: a strict text-format parse, `z2z_` names,
/// base units, and counters that follow the events.
struct GatewayMetricsTests {
    static func status(role: GatewayRole, stage: Stage) -> StatusResponse {
        StatusResponse(nodeID: "ab", network: "z2z", island: IslandRef(id: "01"), role: role, leaderID: "ab", stage: stage,
                       overlayID: nil, peerCount: 3, services: ServiceCounts(local: 4, imported: 2, exported: 3, refused: 5, capped: 6),
                       uptimeSeconds: 12.5, avahi: AvahiStatus(state: .connected), health: .ok)
    }

    /// The rendezvous reports refusal totals; each scrape counts what is new since the last.
    @Test func refusalTotalsBecomeCountersThatOnlyGrow() throws {
        let metrics = GatewayMetrics()
        metrics.refusals(["rate_limited_source": 3, "bad_tag": 2])
        metrics.refusals(["rate_limited_source": 7, "rate_limited_total": 1, "bad_tag": 2])
        let text = try PrometheusText(metrics.exposition())
        #expect(text.value("z2z_dht_refusals_total", ["reason": "rate_limited_source"]) == 7)
        #expect(text.value("z2z_dht_refusals_total", ["reason": "rate_limited_total"]) == 1)
        #expect(text.value("z2z_dht_refusals_total", ["reason": "bad_tag"]) == 2)
        #expect(text.value("z2z_rate_limited_packets_total") == 8, "rate limits only, not admission")
    }

    /// The relay reports totals; applied again with grown totals, each counter reads the new
    /// total (not the sum of both), and the same snapshot twice adds nothing.
    @Test func relaySnapshotsWithGrowingTotalsAreNotCountedTwice() throws {
        let metrics = GatewayMetrics()
        let printer = "Lab \"Printer\" _ipp._tcp", camera = "Camera _rtsp._tcp"
        var first = RelayMetricsSnapshot()
        first.exporting.add(service: printer, .init(streams: 2, open: 1, bytesToService: 100, bytesFromService: 4_000))
        first.exporting.refusals = ["not_exported": 1]
        first.exporting.endings = ["closed": 1]
        first.importing.add(service: camera, .init(streams: 1, open: 1, bytesToService: 10, bytesFromService: 20))
        first.importing.refusals = ["tunnel_unavailable": 3]
        metrics.relay(first)

        var second = first
        second.exporting.services[printer] = .init(streams: 5, open: 0, bytesToService: 300, bytesFromService: 9_000)
        second.exporting.refusals = ["not_exported": 1, "limit_connections_peer": 2]
        second.exporting.endings = ["closed": 4, "idle_timeout": 1]
        metrics.relay(second)
        metrics.relay(second)

        let text = try PrometheusText(metrics.exposition())
        let exported = ["side": "export", "service": printer]
        #expect(text.types["z2z_relay_streams_total"] == "counter" && text.types["z2z_relay_open_streams"] == "gauge")
        #expect(text.value("z2z_relay_streams_total", exported) == 5)
        #expect(text.value("z2z_relay_open_streams", exported) == 0)
        #expect(text.value("z2z_relay_bytes_total", exported.merging(["direction": "to_service"]) { $1 }) == 300)
        #expect(text.value("z2z_relay_bytes_total", exported.merging(["direction": "from_service"]) { $1 }) == 9_000)
        #expect(text.value("z2z_relay_refusals_total", ["side": "export", "reason": "not_exported"]) == 1)
        #expect(text.value("z2z_relay_refusals_total", ["side": "export", "reason": "limit_connections_peer"]) == 2)
        #expect(text.value("z2z_relay_stream_endings_total", ["side": "export", "reason": "closed"]) == 4)
        #expect(text.value("z2z_relay_stream_endings_total", ["side": "export", "reason": "idle_timeout"]) == 1)
        let imported = ["side": "import", "service": camera]
        #expect(text.value("z2z_relay_streams_total", imported) == 1)
        #expect(text.value("z2z_relay_open_streams", imported) == 1)
        #expect(text.value("z2z_relay_bytes_total", imported.merging(["direction": "from_service"]) { $1 }) == 20)
        #expect(text.value("z2z_relay_refusals_total", ["side": "import", "reason": "tunnel_unavailable"]) == 3)
    }

    /// A relay that starts again (a new leadership) reports from zero: what it reports is
    /// new. A service gone from the snapshot has no open streams.
    @Test func aRelayStartedAgainCountsOnAndItsGoneServicesCloseTheirStreams() throws {
        let metrics = GatewayMetrics()
        var before = RelayMetricsSnapshot()
        before.exporting.add(service: "Printer _ipp._tcp", .init(streams: 5, open: 2, bytesToService: 500))
        before.exporting.add(service: "Camera _rtsp._tcp", .init(streams: 1, open: 1))
        metrics.relay(before)
        var after = RelayMetricsSnapshot()
        after.exporting.add(service: "Printer _ipp._tcp", .init(streams: 2, open: 1, bytesToService: 40))
        metrics.relay(after)

        let text = try PrometheusText(metrics.exposition())
        #expect(text.value("z2z_relay_streams_total", ["side": "export", "service": "Printer _ipp._tcp"]) == 7)
        #expect(text.value("z2z_relay_bytes_total", ["side": "export", "service": "Printer _ipp._tcp", "direction": "to_service"]) == 540)
        #expect(text.value("z2z_relay_open_streams", ["side": "export", "service": "Printer _ipp._tcp"]) == 1)
        #expect(text.value("z2z_relay_open_streams", ["side": "export", "service": "Camera _rtsp._tcp"]) == 0)
        #expect(text.value("z2z_relay_streams_total", ["side": "export", "service": "Camera _rtsp._tcp"]) == 1)
    }

    /// One label may stand for several relay entries (TCP and UDP, one name on two islands).
    @Test func servicesUnderOneLabelAddUp() {
        var side = RelayMetricsSnapshot.Side()
        let label = RelayMetricsSnapshot.service(try! InstanceName("Phone"), try! ServiceType("_sip._udp"))
        side.add(service: label, .init(streams: 1, open: 1, bytesToService: 5, bytesFromService: 6))
        side.add(service: label, .init(streams: 2, open: 0, bytesToService: 7, bytesFromService: 8))
        #expect(label == "Phone _sip._udp")
        #expect(side.services == [label: .init(streams: 3, open: 1, bytesToService: 12, bytesFromService: 14)])
    }

    @Test func relayedImportsAreAGaugeByReasonFromTheStatus() throws {
        let metrics = GatewayMetrics()
        var status = Self.status(role: .leader, stage: .structure)
        status.services.relayed = ["lan_not_routed": 2, "link_local_only": 1]
        metrics.scrape(status: status, dhtPeers: 0, storedValues: 0)
        let text = try PrometheusText(metrics.exposition())
        #expect(text.value("z2z_imports_relayed", ["reason": "lan_not_routed"]) == 2)
        #expect(text.value("z2z_imports_relayed", ["reason": "link_local_only"]) == 1)
        #expect(text.value("z2z_imports_relayed", ["reason": "always"]) == 0, "every reason is present")
    }

    @Test func exposesStateCountersAndHistogramsInTheTextFormat() throws {
        let metrics = GatewayMetrics()
        var log = EventLog()
        let inputs: [(GatewayEvent.Kind, String?)] = [(.transition, "leader"), (.exported, "new"), (.exported, "new"), (.exported, "changed"),
                               (.exportSkipped, "denied_by_policy"), (.imported, "new"), (.importWithdrawn, nil),
                               (.rejected, "record_bad_signature"), (.rejected, "record_bad_signature"), (.rejected, "Weird Reason!"),
                               (.stage, "interconnection"), (.stage, "structure"), (.importHeld, "denied_by_policy")]
        for (kind, reason) in inputs {
            metrics.observe(log.append(kind, reason: reason, message: "m"))
            if kind == .rejected, let reason { metrics.rejected(reason) } // as the driver counts them
        }
        metrics.rendezvousOperation("put", duration: .milliseconds(7), result: "ok")
        metrics.rendezvousOperation("put", duration: .milliseconds(300), result: "not_stored")
        metrics.rateLimited(5)
        metrics.scrape(status: Self.status(role: .leader, stage: .structure), dhtPeers: 6, storedValues: 11)

        let text = try PrometheusText(metrics.exposition())
        #expect(text.samples.allSatisfy { $0.name.hasPrefix("z2z_") })
        #expect(text.value("z2z_leader") == 1)
        #expect(text.value("z2z_role", ["role": "leader"]) == 1 && text.value("z2z_role", ["role": "follower"]) == 0)
        #expect(text.value("z2z_stage", ["stage": "structure"]) == 1 && text.value("z2z_stage", ["stage": "bootstrapping"]) == 0)
        #expect(text.value("z2z_leader_changes_total") == 1)
        #expect(text.value("z2z_stage_changes_total", ["stage": "structure"]) == 1)
        #expect(text.value("z2z_stage_changes_total", ["stage": "merging"]) == 0, "present from the start")
        #expect(text.value("z2z_imports_total", ["result": "denied_by_policy"]) == 1)
        #expect(text.value("z2z_services", ["origin": "local"]) == 4)
        #expect(text.value("z2z_services", ["origin": "imported"]) == 2)
        #expect(text.value("z2z_imports_refused") == 5 && text.value("z2z_exports_capped") == 6)
        #expect(text.value("z2z_dht_peers") == 6)
        #expect(text.value("z2z_exports_total", ["result": "exported"]) == 2)
        #expect(text.value("z2z_exports_total", ["result": "changed"]) == 1)
        #expect(text.value("z2z_exports_total", ["result": "denied_by_policy"]) == 1)
        #expect(text.value("z2z_imports_total", ["result": "imported"]) == 1)
        #expect(text.value("z2z_imports_total", ["result": "withdrawn"]) == 1)
        #expect(text.value("z2z_rejections_total", ["reason": "record_bad_signature"]) == 2)
        #expect(text.value("z2z_rejections_total", ["reason": "weird_reason_"]) == 1)
        #expect(text.value("z2z_rate_limited_packets_total") == 5)
        #expect(text.types["z2z_uptime_seconds"] == "gauge")

        // The latency histogram: seconds, cumulative buckets, +Inf equals the count.
        let histogram = "z2z_rendezvous_operation_duration_seconds"
        #expect(text.types[histogram] == "histogram")
        let buckets = text.samples.filter { $0.name == histogram + "_bucket" && $0.labels["operation"] == "put" }
            .sorted { (Double($0.labels["le"] ?? "") ?? .infinity) < (Double($1.labels["le"] ?? "") ?? .infinity) }
        #expect(buckets.count >= 5)
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.value <= $1.value })
        #expect(buckets.first { $0.labels["le"] == "0.01" }?.value == 1)
        #expect(buckets.last?.labels["le"] == "+Inf" && buckets.last?.value == 2)
        #expect(text.value(histogram + "_count", ["operation": "put"]) == 2)
        let sum = try #require(text.value(histogram + "_sum", ["operation": "put"]))
        #expect(abs(sum - 0.307) < 1e-6)

        // Low cardinality: no label value is an id, a name or an address.
        let values = Set(text.samples.flatMap { $0.labels.values })
        #expect(values.allSatisfy { $0.count <= 48 && !$0.contains(".") || Double($0) != nil })
    }

    @Test func theParserRefusesWhatAPrometheusServerRefuses() {
        #expect(throws: PrometheusText.ParseError.self) { try PrometheusText("z2z_x 1\n") } // no TYPE
        #expect(throws: PrometheusText.ParseError.self) { try PrometheusText("# TYPE z2z_x gauge\nz2z_x{a=\"1} 1\n") }
        #expect(throws: PrometheusText.ParseError.self) { try PrometheusText("# TYPE z2z_x gauge\nz2z_x one\n") }
        #expect(throws: PrometheusText.ParseError.self) { try PrometheusText("# TYPE z2z_x gauge\nz2z_x 1\nz2z_x 2\n") }
        #expect(throws: PrometheusText.ParseError.self) { try PrometheusText("# TYPE z2z_x gauge\nz2z_x{a=\"\\q\"} 1\n") }
    }
}

/// sd_notify by hand: the datagrams reach a socket bound where NOTIFY_SOCKET says.
struct SystemdNotifierTests {
    @Test func sendsEachNotificationAsOneDatagram() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("z2z-notify-\(getpid()).sock").path
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"])
        #expect(notifier.watchdogInterval == .seconds(4))
        #expect(notifier.notify("READY=1\nSTATUS=leader"))
        #expect(notifier.notify("WATCHDOG=1"))
        var buffer = [UInt8](repeating: 0, count: 256)
        let first = recv(fd, &buffer, buffer.count, 0)
        #expect(String(decoding: buffer.prefix(max(0, first)), as: UTF8.self) == "READY=1\nSTATUS=leader")
        let second = recv(fd, &buffer, buffer.count, 0)
        #expect(String(decoding: buffer.prefix(max(0, second)), as: UTF8.self) == "WATCHDOG=1")

        #expect(!SystemdNotifier(environment: [:]).notify("READY=1")) // outside systemd: nothing to do
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1", "WATCHDOG_PID": "1"]).watchdogInterval == nil)
    }
}
