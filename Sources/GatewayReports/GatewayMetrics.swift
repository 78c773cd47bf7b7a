import CoreMetrics
import Foundation
import Metrics
import Primitives
import Prometheus
import Synchronization
import Gateway
import Z2ZAPI

/// The daemon's Prometheus metrics (`GET /metrics`), named `z2z_*` in base units (seconds),
/// with low-cardinality labels only: roles, stages, origins, results and reasons — never an
/// island or node id. The one exception is the relay's per-service series
/// (`z2z_relay_*{service}`): which service carries the relayed traffic is the question they
/// answer, and the relayed services are few (those another island cannot reach directly).
///
/// Counters are fed by the event log (`observe`), so a metric label and the event's reason
/// are the same word; state gauges are set from the status at each scrape (`scrape`);
/// counters a component keeps as totals (`refusals`, `relay`) advance by the difference.
/// Metrics go through swift-metrics with this registry's factory rather than the global
/// `MetricsSystem` (bootstrapped once per process), so tests can run several daemons.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// The rendezvous' refusal totals at the last scrape: counters advance by the difference.
    private let refusalsSeen = Mutex<[String: Int]>([:])
    /// The relay's totals and open-stream gauges at its last snapshot.
    private let relaySeen = Mutex<RelaySeen>(RelaySeen())

    static let roles = ["candidate", "follower", "leader"]
    static let stages = Primitives.Stage.allCases.map(\.rawValue)

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["z2z_rendezvous_operation_duration_seconds"] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
            .seconds(5), .seconds(10),
        ]
        self.factory = factory
        // Present from the start (at 0), so a dashboard's rate() has a series to read.
        counter("z2z_leader_changes_total").increment(by: 0)
        for stage in Self.stages { counter("z2z_stage_changes_total", ["stage": stage]).increment(by: 0) }
        counter("z2z_rate_limited_packets_total").increment(by: 0)
        counter("z2z_rejections_total", ["reason": "none"]).increment(by: 0)
        for result in ["exported", "changed", "removed"] { counter("z2z_exports_total", ["result": result]).increment(by: 0) }
        for result in ["imported", "changed", "withdrawn"] { counter("z2z_imports_total", ["result": result]).increment(by: 0) }
    }

    /// Counts one event: leader changes, exports and imports by result, rejections by reason.
    public func observe(_ event: GatewayEvent) {
        switch event.kind {
        case .transition:
            counter("z2z_leader_changes_total").increment()
        case .exported:
            counter("z2z_exports_total", ["result": event.reason == "changed" ? "changed" : "exported"]).increment()
        case .exportRemoved:
            counter("z2z_exports_total", ["result": "removed"]).increment()
        case .exportSkipped:
            counter("z2z_exports_total", ["result": Self.label(event.reason ?? "skipped")]).increment()
        case .imported:
            counter("z2z_imports_total", ["result": event.reason == "changed" ? "changed" : "imported"]).increment()
        case .importWithdrawn:
            counter("z2z_imports_total", ["result": "withdrawn"]).increment()
        case .importHeld:
            counter("z2z_imports_total", ["result": Self.label(event.reason ?? "held")]).increment()
        case .stage:
            counter("z2z_stage_changes_total", ["stage": Self.label(event.reason ?? "unknown")]).increment()
        case .rejected:
            break // counted one by one in `rejected(_:)`: the event log keeps one per reason and window
        case .failed:
            counter("z2z_failures_total", ["reason": Self.label(event.reason ?? "unknown")]).increment()
        default:
            break
        }
    }

    /// One rejected input (a datagram, a record) and why.
    public func rejected(_ reason: String) {
        counter("z2z_rejections_total", ["reason": Self.label(reason)]).increment()
    }

    /// Packets dropped by a rate limit.
    public func rateLimited(_ packets: Int = 1) {
        counter("z2z_rate_limited_packets_total").increment(by: Int64(packets))
    }

    /// The rendezvous' refusals (datagrams and records refused, by reason: rate limits,
    /// admission, record checks, table diversity) as totals since start: counted into
    /// `z2z_dht_refusals_total{reason}`, and the rate limits' also into
    /// `z2z_rate_limited_packets_total`.
    public func refusals(_ totals: [String: Int]) {
        let deltas = refusalsSeen.withLock { seen -> [String: Int] in
            var deltas: [String: Int] = [:]
            for (reason, total) in totals where total > seen[reason, default: 0] {
                deltas[reason] = total - seen[reason, default: 0]
                seen[reason] = total
            }
            return deltas
        }
        for (reason, delta) in deltas.sorted(by: { $0.key < $1.key }) {
            counter("z2z_dht_refusals_total", ["reason": Self.label(reason)]).increment(by: Int64(delta))
            if reason.hasPrefix("rate_limited") { rateLimited(delta) }
        }
    }

    /// The leaders' relay (`RelayMetricsSnapshot`, totals since it started), for both sides
    /// (`side` is `export` or `import`): `z2z_relay_streams_total{side,service}`,
    /// `z2z_relay_open_streams{side,service}`, `z2z_relay_bytes_total{side,service,direction}`
    /// (`to_service`, `from_service`), `z2z_relay_refusals_total{side,reason}` and
    /// `z2z_relay_stream_endings_total{side,reason}`. Call it with each new snapshot (at each
    /// scrape): counters advance by what grew since the last one. A total below the last one,
    /// or one that reappears, counts as a relay that started again: all of it is new.
    public func relay(_ snapshot: RelayMetricsSnapshot) {
        var totals: [MetricSeries: UInt64] = [:]
        var open: [MetricSeries: Int] = [:]
        for (side, report) in [("export", snapshot.exporting), ("import", snapshot.importing)] {
            for (service, traffic) in report.services {
                totals[MetricSeries("z2z_relay_streams_total", ["side": side, "service": service])] = UInt64(max(0, traffic.streams))
                for (direction, bytes) in [("to_service", traffic.bytesToService), ("from_service", traffic.bytesFromService)] {
                    totals[MetricSeries("z2z_relay_bytes_total", ["side": side, "service": service, "direction": direction])] = bytes
                }
                open[MetricSeries("z2z_relay_open_streams", ["side": side, "service": service])] = traffic.open
            }
            // Reasons become labels; two that clean to the same label add up.
            for (name, counts) in [("z2z_relay_refusals_total", report.refusals), ("z2z_relay_stream_endings_total", report.endings)] {
                for (reason, count) in counts {
                    totals[MetricSeries(name, ["side": side, "reason": Self.label(reason)]), default: 0] += UInt64(max(0, count))
                }
            }
        }
        let (deltas, closed) = relaySeen.withLock { seen in
            var deltas: [MetricSeries: UInt64] = [:]
            for (series, total) in totals {
                let last = seen.totals[series] ?? 0
                deltas[series] = total >= last ? total - last : total
            }
            let closed = seen.open.subtracting(open.keys)
            seen = RelaySeen(totals: totals, open: Set(open.keys))
            return (deltas, closed)
        }
        // A delta of 0 still registers the series: a dashboard's rate() has one to read.
        for (series, delta) in deltas {
            CoreMetrics.Counter(label: series.name, dimensions: series.dimensions, factory: factory).increment(by: Int64(clamping: delta))
        }
        for (series, streams) in open {
            CoreMetrics.Gauge(label: series.name, dimensions: series.dimensions, factory: factory).record(streams)
        }
        for series in closed {
            CoreMetrics.Gauge(label: series.name, dimensions: series.dimensions, factory: factory).record(0)
        }
    }

    /// One rendezvous operation: its latency, by operation, and its result.
    public func rendezvousOperation(_ operation: String, duration: Duration, result: String) {
        CoreMetrics.Timer(label: "z2z_rendezvous_operation_duration_seconds", dimensions: [("operation", operation)], factory: factory)
            .record(duration: duration)
        counter("z2z_rendezvous_operations_total", ["operation": operation, "result": Self.label(result)]).increment()
    }

    /// Sets the state gauges from a status answer (at each scrape).
    public func scrape(status: StatusResponse, dhtPeers: Int, storedValues: Int) {
        for role in Self.roles { gauge("z2z_role", ["role": role]).record(status.role.rawValue == role ? 1 : 0) }
        gauge("z2z_leader").record(status.role == .leader ? 1 : 0)
        for stage in Self.stages { gauge("z2z_stage", ["stage": stage]).record(status.stage.rawValue == stage ? 1 : 0) }
        gauge("z2z_services", ["origin": "local"]).record(status.services.local)
        gauge("z2z_services", ["origin": "imported"]).record(status.services.imported)
        gauge("z2z_services", ["origin": "exported"]).record(status.services.exported)
        // Imports avahi-daemon refused and the driver keeps trying: 0 when all are published.
        gauge("z2z_imports_refused").record(status.services.refused ?? 0)
        // Local services left out: their type has as many exports as the DHT holds from one island.
        gauge("z2z_exports_capped").record(status.services.capped ?? 0)
        for reason in RelayReason.all.map(\.rawValue) {
            gauge("z2z_imports_relayed", ["reason": reason]).record(status.services.relayed?[reason] ?? 0)
        }
        gauge("z2z_peers").record(status.peerCount)
        gauge("z2z_dht_peers").record(dhtPeers)
        gauge("z2z_dht_stored_values").record(storedValues)
        gauge("z2z_avahi_connected").record(status.avahi.state == .connected ? 1 : 0)
        gauge("z2z_uptime_seconds").record(status.uptimeSeconds)
    }

    /// Router mode: per link, its services by origin (`local`, `imported`, `held`), whether
    /// its avahi client is connected and whether it is in the in-process exchange, and its
    /// gateway towards the DHT: whether it leads the link, its peers, and the services it
    /// imported onto the link and exported from it (at each scrape).
    public func scrape(links: [LinkInfo]) {
        gauge("z2z_links").record(links.count)
        for link in links {
            gauge("z2z_link_services", ["link": link.name, "origin": "local"]).record(link.local)
            gauge("z2z_link_services", ["link": link.name, "origin": "imported"]).record(link.imported)
            gauge("z2z_link_services", ["link": link.name, "origin": "held"]).record(link.held)
            gauge("z2z_link_avahi_connected", ["link": link.name]).record(link.avahi.state == .connected ? 1 : 0)
            if let inExchange = link.inExchange { gauge("z2z_link_in_exchange", ["link": link.name]).record(inExchange ? 1 : 0) }
            guard let gateway = link.gateway else { continue }
            gauge("z2z_link_gateway_leader", ["link": link.name]).record(gateway.role == .leader ? 1 : 0)
            gauge("z2z_link_gateway_peers", ["link": link.name]).record(gateway.peerCount)
            gauge("z2z_link_dht_services", ["link": link.name, "direction": "imported"]).record(gateway.imported)
            gauge("z2z_link_dht_services", ["link": link.name, "direction": "exported"]).record(gateway.exported)
        }
    }

    /// The text exposition format.
    public func exposition() -> String { registry.emitToString() }

    private func counter(_ name: String, _ labels: KeyValuePairs<String, String> = [:]) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: name, dimensions: labels.map { ($0.key, $0.value) }, factory: factory)
    }

    private func gauge(_ name: String, _ labels: KeyValuePairs<String, String> = [:]) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: name, dimensions: labels.map { ($0.key, $0.value) }, factory: factory)
    }

    /// A reason as a label value: lower case letters, digits and `_` only, at most 48 bytes.
    static func label(_ reason: String) -> String {
        let cleaned = reason.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "_" }
        return String(String(cleaned).prefix(48))
    }
}

/// One series of a metric: its name and labels (given to swift-metrics in one order, by label name).
struct MetricSeries: Hashable, Sendable {
    var name: String
    var labels: [String: String]

    init(_ name: String, _ labels: [String: String]) {
        self.name = name
        self.labels = labels
    }

    var dimensions: [(String, String)] { labels.sorted { $0.key < $1.key } }
}

/// What `GatewayMetrics.relay` saw last: every counter's total, and the services whose
/// open-streams gauge it set (one that leaves the snapshot goes back to 0).
struct RelaySeen: Sendable {
    var totals: [MetricSeries: UInt64] = [:]
    var open: Set<MetricSeries> = []
}
