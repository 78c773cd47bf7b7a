import DNSSD
import Foundation
import Gateway
import Island
import LocalDomain
import Policy
import Rendezvous
import Z2ZAPI

/// `z2z explain`: follows services through the gateway's steps and says where each stops.
/// Pure over the machine's view (its own decisions and its policy gate), the facts it
/// stated lately (`EventLog`), and what the DHT answered for the type keys involved
/// (`types(for:)` says which to ask; the caller asks with a timeout).
///
/// Outbound (a service of this island): seen on the link → export policy → exported under
/// `type/<type>` → present in the DHT → other leaders subscribe to its type.
/// Inbound (a service of another island): present in the DHT → which leaders put it →
/// import policy → imported on this link under a name.
public struct ServiceExplainer: Sendable {
    /// What the DHT said for one type key.
    public enum DHTAnswer: Sendable {
        case values([RendezvousValue])
        /// The get failed or timed out: presence is unknown, not absent.
        case unanswered(String)
    }

    public var view: GatewayView
    public var events: EventLog
    /// Imports avahi-daemon refused (the driver tries them again): not on the link yet.
    public var refused: [ImportKey: ImportRefusal]

    public init(view: GatewayView, events: EventLog, refused: [ImportKey: ImportRefusal] = [:]) {
        self.view = view
        self.events = events
        self.refused = refused
    }

    /// One instance as the explainer tracks it.
    struct Candidate: Hashable, Comparable {
        var island: IslandID?
        var type: ServiceType
        var name: InstanceName
        static func < (a: Self, b: Self) -> Bool {
            (a.type, a.name, a.island?.rawValue ?? 0) < (b.type, b.name, b.island?.rawValue ?? 0)
        }
    }

    /// What the query asks about: a whole type, or instances by name (with or without type).
    public enum Query: Sendable {
        case type(ServiceType)
        case instance(name: String, type: ServiceType?)

        public init(_ text: String) {
            var text = text
            if text.lowercased().hasSuffix(".local") { text = String(text.dropLast(6)) }
            if let type = try? ServiceType(text) {
                self = .type(type)
                return
            }
            // "Name._ipp._tcp": the name is everything before the type (names may hold dots).
            var search = text.startIndex
            while let range = text.range(of: "._", range: search..<text.endIndex) {
                if let type = try? ServiceType(String(text[text.index(after: range.lowerBound)...])) {
                    self = .instance(name: String(text[..<range.lowerBound]), type: type)
                    return
                }
                search = range.upperBound
            }
            self = .instance(name: text, type: nil)
        }

        public func matches(_ name: InstanceName, _ type: ServiceType) -> Bool {
            switch self {
            case .type(let wanted): return wanted == type
            case .instance(let wanted, let wantedType):
                return wanted.lowercased() == name.value.lowercased() && (wantedType.map { $0 == type } ?? true)
            }
        }
    }

    /// The type keys to read from the DHT for this query.
    public func types(for text: String) -> [ServiceType] {
        switch Query(text) {
        case .type(let type): return [type]
        case .instance(_, let type?): return [type]
        case .instance:
            return Array(Set(known(Query(text)).map(\.type))).sorted()
        }
    }

    public func explain(_ text: String, dht: [ServiceType: DHTAnswer]) -> ExplainResponse {
        let query = Query(text)
        var candidates = Set(known(query))
        let here = view.island
        for case (_, .values(let values)) in dht {
            for value in values {
                guard let record = try? ServiceRecordCodec.decode(value.payload), query.matches(record.name, record.type) else { continue }
                candidates.insert(Candidate(island: record.island == here ? nil : record.island, type: record.type, name: record.name))
            }
        }
        let traces = candidates.sorted().map { candidate in
            candidate.island == nil ? outbound(candidate, dht: dht[candidate.type]) : inbound(candidate, dht: dht[candidate.type])
        }
        let role = GatewayRole(rawValue: view.role.rawValue)
        let summary: String
        if traces.isEmpty {
            summary = "no service matching \"\(text)\" is on this link, in the DHT, or in the recent events"
        } else {
            let crossed = traces.filter(\.crossed).count
            summary = "\(traces.count) instance\(traces.count == 1 ? "" : "s"), \(crossed) crossing" +
                (view.role == .leader ? "" : "; this gateway is a \(view.role.rawValue): its leader knows more")
        }
        return ExplainResponse(query: text, role: role, traces: traces, summary: summary)
    }

    // MARK: candidates

    /// Instances known without the DHT: on the link, received from other islands, imported,
    /// or named by a recent fact (withdrawn ones). Local ones have `island == nil`.
    func known(_ query: Query) -> [Candidate] {
        var found: [Candidate] = []
        for service in view.hostServices where query.matches(service.id.name, service.id.type) {
            found.append(Candidate(island: nil, type: service.id.type, name: service.id.name))
        }
        for key in view.received where query.matches(key.name, key.type) {
            found.append(Candidate(island: key.island == view.island ? nil : key.island, type: key.type, name: key.name))
        }
        for entry in events.entries {
            guard let fact = entry.fact, let (island, id) = Self.instance(in: fact), query.matches(id.name, id.type) else { continue }
            found.append(Candidate(island: island == view.island ? nil : island, type: id.type, name: id.name))
        }
        return found
    }

    /// The instance a fact is about, and its island (nil: this island's link).
    static func instance(in fact: GatewayFact) -> (IslandID?, ServiceID)? {
        switch fact {
        case .serviceSeen(let service, _), .serviceGone(let service): (nil, service.id)
        case .exported(let record, _, _): (nil, record.id.service)
        case .exportWithdrawn(let id), .exportSkipped(let id, _): (nil, id)
        case .imported(let key, _, _), .importWithdrawn(let key, _), .importHeld(let key, _): (key.island, key.service)
        case .transition, .stage, .responder, .rejected: nil
        }
    }

    // MARK: traces

    func outbound(_ candidate: Candidate, dht: DHTAnswer?) -> ServiceTrace {
        var steps: [TraceStep] = []
        let id = ServiceID(name: candidate.name, type: candidate.type)
        let islandRef = IslandRef(id: view.island.map { "\($0)" }, name: view.configuredIslandName)
        let others = view.otherIslands
        func trace() -> ServiceTrace {
            let crossed = "crosses: exported and visible to the leaders of \(others.count) other island\(others.count == 1 ? "" : "s")"
            return Self.trace(candidate, island: islandRef, direction: .outbound, steps: steps, crossed: crossed)
        }

        // 1. Seen on the link?
        guard let service = view.linkService(id), service.isPublishedByAHost else {
            if let latest = events.latest(where: { Self.isLinkFact($0, about: id) }), case .serviceGone = latest.fact {
                steps.append(TraceStep(step: .seenLocally, outcome: .failed,
                                       detail: "withdrawn at \(Self.time(latest.time)) (removed); no longer on the link", reason: "withdrawn"))
            } else {
                steps.append(TraceStep(step: .seenLocally, outcome: .failed, detail: "not on this link", reason: "not_seen"))
            }
            return trace()
        }
        let addresses = service.instance.addresses.map(\.description).joined(separator: ", ")
        steps.append(TraceStep(step: .seenLocally, outcome: .passed,
                               detail: "on \(service.instance.host.value):\(service.instance.port) [\(addresses)]"))

        // 2. Permitted, and exportable at all? The export planner's own decision.
        let decision = view.exportDecision(service)
        let verdict: Verdict
        switch decision {
        case .skipped(.denied(let denial)):
            steps.append(TraceStep(step: .exportPolicy, outcome: .failed, detail: "denied by \(denial)", reason: "denied_by_policy"))
            return trace()
        case .skipped(.notAnswering):
            steps.append(TraceStep(step: .exportPolicy, outcome: .passed, detail: "permitted by \(view.exportVerdict(service))"))
            steps.append(TraceStep(step: .exported, outcome: .failed,
                                   detail: "withdrawn: its SIP contacts stopped answering OPTIONS (z2z sip shows the checks); exported again when they answer",
                                   reason: ExportSkip.notAnswering.reason))
            return trace()
        case .skipped(.typeFull(let limit)):
            steps.append(TraceStep(step: .exportPolicy, outcome: .passed, detail: "permitted by \(view.exportVerdict(service))"))
            steps.append(TraceStep(step: .exported, outcome: .failed,
                                   detail: "not exported: \(limit) services of \(candidate.type) are, as many as the DHT holds from one island under one key; exported when one of them goes",
                                   reason: ExportSkip.typeFull(limit: limit).reason))
            return trace()
        case .skipped(let skip):
            steps.append(TraceStep(step: .exportPolicy, outcome: .passed, detail: "permitted by \(view.exportVerdict(service))"))
            steps.append(TraceStep(step: .exported, outcome: .failed,
                                   detail: "not exportable: \(skip.reason.replacingOccurrences(of: "_", with: " "))", reason: skip.reason))
            return trace()
        case .exported(_, let permit), .settling(_, let permit), .exportable(let permit):
            verdict = permit
        }
        steps.append(TraceStep(step: .exportPolicy, outcome: .passed, detail: "permitted by \(verdict)"))

        // 3. Exported, under which key?
        let key = view.typeKey(candidate.type)
        let valueID = view.valueID(candidate.name, candidate.type)
        let keyText = "type/\(candidate.type) = \(key.point), value id \(String(valueID, radix: 16))"
        switch decision {
        case .exported:
            steps.append(TraceStep(step: .exported, outcome: .passed, detail: "under \(keyText)"))
        case .settling:
            let settle = Int((view.settleTime.seconds * 1000).rounded())
            steps.append(TraceStep(step: .exported, outcome: .failed,
                                   detail: "settling (seen a moment ago; exported within \(settle) ms)", reason: "settling"))
            return trace()
        case .exportable, .skipped:
            let leader = view.leader.map { String("\($0)".prefix(16)) + "…" } ?? "(none yet)"
            steps.append(TraceStep(step: .exported, outcome: .unknown,
                                   detail: "this gateway is a \(view.role.rawValue); the leader \(leader) exports under \(keyText)"))
            return trace()
        }

        // 4. In the DHT?
        switch dht {
        case .values(let values)?:
            if let value = values.first(where: { $0.owner == view.node && $0.valueID == valueID }) {
                steps.append(TraceStep(step: .inDHT, outcome: .passed, detail: "a get finds it (sequence \(value.sequence), \(value.payload.count) bytes)"))
            } else {
                steps.append(TraceStep(step: .inDHT, outcome: .failed,
                                       detail: "a get of \(keyText) does not find it (\(values.count) other values there); the put failed or has not reached the holders",
                                       reason: "not_in_dht"))
                return trace()
            }
        case .unanswered(let why)?:
            steps.append(TraceStep(step: .inDHT, outcome: .unknown, detail: "the DHT did not answer: \(why)"))
            return trace()
        case nil:
            steps.append(TraceStep(step: .inDHT, outcome: .unknown, detail: "the DHT was not asked"))
            return trace()
        }

        // 5. Seen by which leaders? Every other leader subscribes to the types in the directory.
        if others.isEmpty {
            steps.append(TraceStep(step: .seenByLeaders, outcome: .failed,
                                   detail: "no other island's leader is known: no other island reached yet", reason: "no_other_island"))
        } else {
            let names = others.map { "\($0.name.isEmpty ? "\($0.island)" : $0.name) (leader \("\($0.leader)".prefix(16))…)" }
            steps.append(TraceStep(step: .seenByLeaders, outcome: .passed,
                                   detail: "type listed in the directory; subscribed by the leaders of \(names.joined(separator: ", ")) (their import policies decide)"))
        }
        return trace()
    }

    /// A fact about a host's service on the link: seen or gone.
    static func isLinkFact(_ fact: GatewayFact, about id: ServiceID) -> Bool {
        switch fact {
        case .serviceSeen(let service, _), .serviceGone(let service): same(service.id, id)
        default: false
        }
    }

    /// Instance names compare as people type them: case-insensitively.
    static func same(_ a: ServiceID, _ b: ServiceID) -> Bool {
        a.type == b.type && a.name.value.lowercased() == b.name.value.lowercased()
    }

    func inbound(_ candidate: Candidate, dht: DHTAnswer?) -> ServiceTrace {
        var steps: [TraceStep] = []
        guard let island = candidate.island else { return outbound(candidate, dht: dht) }
        let key = ImportKey(island: island, type: candidate.type, name: candidate.name)
        let received = view.received(key)
        var records: [(slot: ValueSlot, record: ServiceRecord, sequence: UInt64?)] = received.map { ($0.key, $0.value, nil) }
        if case .values(let values)? = dht {
            for value in values {
                guard let record = try? ServiceRecordCodec.decode(value.payload), record.id == key else { continue }
                if let index = records.firstIndex(where: { $0.slot == value.slot }) {
                    records[index].sequence = value.sequence
                } else {
                    records.append((value.slot, record, value.sequence))
                }
            }
        }
        let islandName = records.first?.record.islandName ?? view.islandName(of: island) ?? ""
        let islandRef = IslandRef(id: "\(island)", name: islandName.isEmpty ? nil : islandName)
        let imported = view.imports[key]
        let route = refused[key].map(ImportRoute.init(refused:)) ?? imported.map(ImportRoute.init)
            ?? view.held(key).flatMap(ImportRoute.init(held:))
        func trace() -> ServiceTrace {
            let name = imported?.publication.name.value ?? candidate.name.value
            let crossed = "crosses: imported on this link as \"\(name)\", \(route?.summary ?? "direct")"
            var trace = Self.trace(candidate, island: islandRef, direction: .inbound, steps: steps, crossed: crossed)
            trace.route = route
            return trace
        }

        // 1. In the DHT? 2. Put by which leaders?
        if records.isEmpty {
            let latest = events.latest { fact in
                switch fact {
                case .imported(let other, _, _), .importWithdrawn(let other, _): other == key
                default: false
                }
            }
            if let latest, case .importWithdrawn = latest.fact {
                steps.append(TraceStep(step: .inDHT, outcome: .failed,
                                       detail: "withdrawn at \(Self.time(latest.time)): its island removed it from the DHT", reason: "withdrawn"))
            } else if case .unanswered(let why)? = dht {
                steps.append(TraceStep(step: .inDHT, outcome: .unknown, detail: "the DHT did not answer: \(why)"))
            } else {
                steps.append(TraceStep(step: .inDHT, outcome: .failed, detail: "not in the DHT", reason: "not_in_dht"))
            }
            return trace()
        }
        let keyText = "type/\(candidate.type) = \(view.typeKey(candidate.type).point)"
        steps.append(TraceStep(step: .inDHT, outcome: .passed,
                               detail: "under \(keyText)\(received.isEmpty ? " (found by a get; this gateway is not subscribed to the type)" : " (received by subscription)")"))
        let owners = Set(records.map(\.slot.owner)).sorted().map { "\("\($0)".prefix(16))…" }
        steps.append(TraceStep(step: .seenByLeaders, outcome: .passed,
                               detail: "put by the leader\(owners.count == 1 ? "" : "s") \(owners.joined(separator: ", ")) of island \(islandRef)"))

        // 3. Permitted in? The machine's hold when it holds one, else its gate's verdict on
        // the record it imports or would take (rules may pick instances by name, host, address).
        let verdict: Verdict
        if case .denied(let denial)? = view.held(key) {
            verdict = denial
        } else {
            verdict = view.importVerdict(imported?.record ?? StatusReport.receivedRecord(key, view) ?? records[0].record)
        }
        guard verdict.permits else {
            steps.append(TraceStep(step: .importPolicy, outcome: .failed, detail: "denied by \(verdict)", reason: "denied_by_policy"))
            return trace()
        }
        steps.append(TraceStep(step: .importPolicy, outcome: .passed, detail: "permitted by \(verdict)"))

        // 4. Imported here, under what name?
        guard view.role == .leader else {
            steps.append(TraceStep(step: .imported, outcome: .unknown,
                                   detail: "this gateway is a \(view.role.rawValue); its leader imports (look for it with z2z services)"))
            return trace()
        }
        if imported != nil, let refusal = refused[key] {
            steps.append(TraceStep(step: .imported, outcome: .failed,
                                   detail: "not published on this link: \(refusal.summary)", reason: "avahi_refused"))
        } else if let imported {
            var host = ""
            if case .synthesized(let name, _) = imported.publication.host { host = " on host \(name.value)" }
            steps.append(TraceStep(step: .imported, outcome: .passed,
                                   detail: "published on this link as \"\(imported.publication.name.value)\"\(host), \(ImportRoute(imported).summary)"))
        } else if received.isEmpty {
            steps.append(TraceStep(step: .imported, outcome: .failed,
                                   detail: "not subscribed to \(candidate.type): no island's directory entry lists it yet", reason: "not_subscribed"))
        } else if let hold = view.held(key) {
            let why = route?.summary ?? hold.reason.replacingOccurrences(of: "_", with: " ")
            steps.append(TraceStep(step: .imported, outcome: .failed, detail: "received but held: \(why)", reason: hold.reason))
        } else {
            steps.append(TraceStep(step: .imported, outcome: .failed,
                                   detail: "received but not published (a local service holds the name, or avahi-daemon refused it; see z2z events)",
                                   reason: "not_published"))
        }
        return trace()
    }

    /// A finished trace: it crosses when every step passed; otherwise the verdict names the
    /// first step that failed, else the first that could not be known from here.
    static func trace(_ candidate: Candidate, island: IslandRef, direction: ServiceTrace.Direction,
                      steps: [TraceStep], crossed: String) -> ServiceTrace {
        let verdict: String
        if let stop = steps.first(where: { $0.outcome == .failed }) {
            verdict = "stops at \(stop.step): \(stop.detail)"
        } else if let unknown = steps.first(where: { $0.outcome == .unknown }) {
            verdict = "unknown from here at \(unknown.step): \(unknown.detail)"
        } else {
            verdict = crossed
        }
        return ServiceTrace(instance: candidate.name.value, type: candidate.type.description, island: island,
                            direction: direction, steps: steps, crossed: steps.allSatisfy { $0.outcome == .passed },
                            verdict: verdict)
    }

    static func time(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
