import DNSSD
import Gateway
import LocalDomain
import Policy
import Z2ZAPI

/// `z2z explain` on a router (router mode, issue 16): each matching service seen on one
/// link, followed onto every other link — the crossing's verdict and where it was published
/// or why it was kept off. Read from the `LinkExchange` that decides, never decided again.
public enum LinkExplainer {
    public static func explain(_ text: String, _ exchange: LinkExchange) -> ExplainResponse {
        let query = ServiceExplainer.Query(text)
        var traces: [ServiceTrace] = []
        for source in exchange.links {
            let here = IslandRef(id: "\(source.island)", name: source.name)
            for service in exchange.services(on: source.index) where query.matches(service.instance.name, service.instance.type) {
                for destination in exchange.links where destination.index != source.index {
                    traces.append(trace(service, from: source, here: here, to: destination, exchange))
                }
            }
        }
        let summary: String
        if traces.isEmpty {
            summary = "no service \(text) is seen on any link"
        } else {
            let crossed = traces.filter(\.crossed).count
            summary = "\(crossed) of \(traces.count) crossings made"
        }
        return ExplainResponse(query: text, role: .leader, traces: traces, summary: summary)
    }

    /// A link gateway's own answer (its link towards the DHT, ordinary `ServiceExplainer`
    /// traces), each verdict saying which link's gateway it is.
    public static func gatewayTraces(_ answer: ExplainResponse, link: String) -> [ServiceTrace] {
        answer.traces.map { trace in
            var trace = trace
            trace.verdict = "link \(link)'s gateway (\(answer.role)): " + trace.verdict
            return trace
        }
    }

    static func trace(_ service: DiscoveredService, from source: LinkExchange.Link, here: IslandRef,
                      to destination: LinkExchange.Link, _ exchange: LinkExchange) -> ServiceTrace {
        let instance = service.instance
        var steps = [TraceStep(step: .seenLocally, outcome: .passed, detail: "on link \(source.name) (\(source.interface))")]
        let onto = "onto link \(destination.name)"
        let key = ImportKey(island: source.island, type: instance.type, name: instance.name)
        let imported = exchange.imported(on: destination.index).first { (candidate: ImportPlanner.Imported) -> Bool in
            candidate.record.id == key
        }
        let held = exchange.held(on: destination.index).first { (entry: (ImportKey, ImportHold)) -> Bool in entry.0 == key }
        let crossed: Bool, verdict: String
        if let elsewhere = [source, destination].first(where: { !exchange.isLed($0.index) }) {
            // Another gateway leads that link's island: it crosses through the DHT (the link gateways' traces).
            let why = "link \(elsewhere.name) is led by another gateway: it crosses through the DHT, not in process"
            steps.append(TraceStep(step: .imported, outcome: .unknown, detail: why))
            crossed = false
            verdict = "=> not in process: \(why)"
        } else if let imported, let decided = exchange.verdict(imported.record, onto: destination.index) {
            steps.append(TraceStep(step: .importPolicy, outcome: .passed, detail: "\(onto): permitted by \(decided)"))
            steps.append(TraceStep(step: .imported, outcome: .passed,
                                   detail: "published on link \(destination.name) as \"\(imported.publication.name.value)\""))
            crossed = true
            verdict = "=> crosses: published on link \(destination.name) as \"\(imported.publication.name.value)\""
        } else if let (_, hold) = held {
            let why: String
            if case .denied(let decided) = hold { why = "denied by \(decided)" } else { why = hold.reason }
            steps.append(TraceStep(step: .importPolicy, outcome: .failed, detail: "\(onto): \(why)", reason: hold.reason))
            crossed = false
            verdict = "=> stops at import_policy: \(onto): \(why)"
        } else {
            let why = exchange.isReady(destination.index) ? "waiting to cross (settling)" : "link \(destination.name) has not settled yet"
            steps.append(TraceStep(step: .imported, outcome: .unknown, detail: why))
            crossed = false
            verdict = "=> not yet on link \(destination.name): \(why)"
        }
        return ServiceTrace(instance: instance.name.value, type: instance.type.description, island: here, direction: .outbound,
                            steps: steps, crossed: crossed, verdict: verdict)
    }
}
