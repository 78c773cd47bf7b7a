import DNSSD
@testable import Gateway
import GatewayReports
import Island
import Primitives
import LocalDomain
import Policy
import PropertyBased
import Rendezvous
import Testing
import Z2ZAPI

/// For random sequences of link events, DHT events, directory changes and policy reloads,
/// what `z2z services`, `explain` and `status` report equals what the machine did — the
/// DHT puts and removals and the publications it asked for, and the facts it stated.
/// No shrinking: PropertyBased prints the seed of a failing run; `.fixedSeed(...)` replays it.
struct ReportsMatchTheMachinePropertyTests {
    static let network = NetworkID(rawValue: 0x2a)
    static let types = ["_ipp._tcp", "_ssh._tcp", "_http._tcp"].map { try! ServiceType($0) }
    static let names = ["Alpha", "Beta", "Gamma"]
    static let islands: [(id: IslandID, name: String)] = [(Fixture.islandB, "south"), (IslandID(rawValue: 0x0c0c_0c0c_0000_0003), "east")]
    /// Per remote island: its current leader and an earlier one (a value left behind).
    static func owner(island: Int, current: Bool) -> NodeID { NodeID(w0: UInt64(0x100 + island * 2 + (current ? 0 : 1)), w1: 0, w2: 0, w3: 0) }

    enum Step: Sendable, CustomStringConvertible {
        case linkAdd(name: Int, type: Int, routable: Bool, port: UInt16)
        case linkRemove(name: Int, type: Int)
        case remoteUpsert(island: Int, name: Int, type: Int, current: Bool, port: UInt16)
        case remoteRemove(island: Int, name: Int, type: Int, current: Bool)
        case directory(island: Int, types: [Int], term: UInt64)
        case directoryRemove(island: Int)
        case policy([PolicyRule], PolicyAction)
        case tick(milliseconds: Int)

        var description: String {
            switch self {
            case .linkAdd(let n, let t, let r, let p): "link+ \(n)/\(t) routable=\(r) port=\(p)"
            case .linkRemove(let n, let t): "link- \(n)/\(t)"
            case .remoteUpsert(let i, let n, let t, let c, let p): "dht+ island\(i) \(n)/\(t) current=\(c) port=\(p)"
            case .remoteRemove(let i, let n, let t, let c): "dht- island\(i) \(n)/\(t) current=\(c)"
            case .directory(let i, let ts, let term): "dir island\(i) types=\(ts) term=\(term)"
            case .directoryRemove(let i): "dir- island\(i)"
            case .policy(let rules, let fallback): "policy \(rules.map(\.description)) default \(fallback)"
            case .tick(let ms): "tick +\(ms) ms"
            }
        }
    }

    static func pick<T>(_ values: [T], _ rng: inout any SeededRandomNumberGenerator) -> T {
        values[Int.random(in: 0..<values.count, using: &rng)]
    }

    static func rule(_ rng: inout any SeededRandomNumberGenerator) -> PolicyRule {
        let island: IslandMatch = pick([.any, .id(Fixture.islandA.rawValue), .name("north"), .id(islands[0].id.rawValue),
                                        .name("south"), .name("EAST")], &rng)
        let type: TypeMatch = pick([.any, .exact(types[0]), .exact(types[1]), .tag("remote")], &rng)
        return PolicyRule(pick([.permit, .deny], &rng), direction: pick([.export, .import, .both], &rng), type: type, island: island)
    }

    static let steps: Generator<[Step], Shrink.None<[Step]>> = Generator { rng in
        (0..<Int.random(in: 5...40, using: &rng)).map { _ in
            switch Int.random(in: 0..<16, using: &rng) {
            case 0..<4:
                return .linkAdd(name: Int.random(in: 0..<3, using: &rng), type: Int.random(in: 0..<3, using: &rng),
                                routable: Int.random(in: 0..<5, using: &rng) > 0, port: pick([80, 631], &rng))
            case 4, 5: return .linkRemove(name: Int.random(in: 0..<3, using: &rng), type: Int.random(in: 0..<3, using: &rng))
            case 6..<9:
                return .remoteUpsert(island: Int.random(in: 0..<2, using: &rng), name: Int.random(in: 0..<3, using: &rng),
                                     type: Int.random(in: 0..<3, using: &rng), current: Int.random(in: 0..<4, using: &rng) > 0,
                                     port: pick([80, 631], &rng))
            case 9, 10:
                return .remoteRemove(island: Int.random(in: 0..<2, using: &rng), name: Int.random(in: 0..<3, using: &rng),
                                     type: Int.random(in: 0..<3, using: &rng), current: Bool.random(using: &rng))
            case 11:
                let types = (0..<3).filter { _ in Bool.random(using: &rng) }
                return .directory(island: Int.random(in: 0..<2, using: &rng), types: types, term: UInt64.random(in: 1...3, using: &rng))
            case 12: return .directoryRemove(island: Int.random(in: 0..<2, using: &rng))
            case 13: return .policy((0..<Int.random(in: 0...3, using: &rng)).map { _ in rule(&rng) }, pick([.permit, .deny], &rng))
            default: return .tick(milliseconds: pick([10, 50, 1_000, 20_000], &rng))
            }
        }
    }

    /// What the machine did, as its effects and facts said it.
    struct Done {
        /// DHT values it put under type keys and has not removed, by (key, value id).
        var dht: [RecordKey: [UInt64: [UInt8]]] = [:]
        /// What it published on its link, by import key.
        var published: [ImportKey: Publication] = [:]
        /// The last export decision stated per local instance: permitted (exported or not exportable) or denied.
        var exportDenied: [ServiceID: Bool] = [:]
        /// Remote instances it said it holds back because the policy denies them.
        var importDenied: Set<ImportKey> = []

        mutating func apply(_ effects: [GatewayMachine.Effect]) {
            for effect in effects {
                switch effect {
                case .put(let key, let valueID, let payload): dht[key, default: [:]][valueID] = payload
                case .remove(let key, let valueID): dht[key]?[valueID] = nil
                case .publish(let key, let publication), .update(let key, let publication): published[key] = publication
                case .withdraw(let key): published[key] = nil
                case .fact(.serviceGone(let service)): exportDenied[service.id] = nil
                case .fact(.exported(let record, _, _)): exportDenied[record.id.service] = false
                case .fact(.exportSkipped(let id, .denied)): exportDenied[id] = true
                case .fact(.exportSkipped(let id, _)): exportDenied[id] = false
                case .fact(.imported(let key, _, _)): importDenied.remove(key)
                case .fact(.importHeld(let key, .denied)): importDenied.insert(key)
                case .fact(.importHeld(let key, _)): importDenied.remove(key)
                default: break
                }
            }
        }
    }

    @Test func whatServicesExplainAndStatusReportIsWhatTheMachineDid() async throws {
        await propertyCheck(count: 300, input: Self.steps) { steps throws in
            let settings = GatewayMachine.Settings(id: NodeID(w0: 1, w1: 0, w2: 0, w3: 0), network: Self.network, priority: 100,
                                                   port: 7400, island: Fixture.islandA, islandName: "north", seed: 1)
            var machine = GatewayMachine(settings: settings)
            var done = Done()
            var log = EventLog()
            var now = Instant.zero
            var link: [ServiceID: DiscoveredService] = [:]
            func run(_ event: GatewayMachine.Event) {
                let effects = machine.handle(event, now: now)
                done.apply(effects)
                for case .fact(let fact) in effects { log.append(fact) }
            }
            run(.tick)
            now = now + .seconds(3.1)
            run(.tick)
            #expect(machine.role == .leader)

            for step in steps {
                switch step {
                case .linkAdd(let n, let t, let routable, let port):
                    let service = try Fixture.service(Self.names[n], type: Self.types[t].description, host: "h\(n).local",
                                                      addresses: routable ? ["10.0.1.\(n + 1)", "fe80::\(n + 1)"] : ["169.254.0.\(n + 1)"])
                    var moved = service
                    moved.instance.port = port
                    run(.local(link[moved.id] == nil ? .added(moved) : .changed(moved)))
                    link[moved.id] = moved
                case .linkRemove(let n, let t):
                    let id = ServiceID(name: try InstanceName(Self.names[n]), type: Self.types[t])
                    if link.removeValue(forKey: id) != nil { run(.local(.removed(id))) }
                case .remoteUpsert(let i, let n, let t, let current, let port):
                    var record = try Fixture.record(Self.names[n], island: Self.islands[i].id, islandName: Self.islands[i].name,
                                                    type: Self.types[t].description, addresses: ["10.\(i + 2).0.\(n + 1)"])
                    record.port = port
                    run(.rendezvous(.upserted(RendezvousValue(
                        key: RecordKeys.type(record.type, network: Self.network), owner: Self.owner(island: i, current: current),
                        valueID: RecordKeys.valueID(of: record.name, type: record.type), sequence: 1, payload: ServiceRecordCodec.encode(record)))))
                case .remoteRemove(let i, let n, let t, let current):
                    let (name, type) = (try InstanceName(Self.names[n]), Self.types[t])
                    run(.rendezvous(.removed(RecordKeys.type(type, network: Self.network),
                                             ValueSlot(owner: Self.owner(island: i, current: current), valueID: RecordKeys.valueID(of: name, type: type)))))
                case .directory(let i, let types, let term):
                    let entry = IslandDirectoryEntry(island: Self.islands[i].id, name: Self.islands[i].name,
                                                     leader: Self.owner(island: i, current: true), types: types.map { Self.types[$0] },
                                                     services: types.count, term: term)
                    run(.rendezvous(.upserted(RendezvousValue(key: RecordKeys.directory(network: Self.network), owner: entry.leader,
                                                              valueID: 0, sequence: 1, payload: IslandDirectoryCodec.encode(entry)))))
                case .directoryRemove(let i):
                    run(.rendezvous(.removed(RecordKeys.directory(network: Self.network),
                                             ValueSlot(owner: Self.owner(island: i, current: true), valueID: 0))))
                case .policy(let rules, let fallback):
                    let effects = machine.setPolicy(Policy(rules: rules, defaultAction: fallback, tags: ["remote": [Self.types[2]]]))
                    done.apply(effects)
                    for case .fact(let fact) in effects { log.append(fact) }
                case .tick(let milliseconds):
                    now = now + .milliseconds(Double(milliseconds))
                    run(.tick)
                }
                try Self.check(machine.view, done, log, after: step)
            }
        }
    }

    static func check(_ view: GatewayView, _ done: Done, _ log: EventLog, after step: Step) throws {
        // Exports: the view and status count exactly what the machine put and has not removed.
        let put = done.dht.values.flatMap(\.values).compactMap { try? ServiceRecordCodec.decode($0) }
        #expect(Set(put) == Set(view.exports.values), "exports after \(step)")
        let status = StatusReport.status(view, stats: RendezvousStats(engine: "test"), network: "z2z", uptime: 0)
        #expect(status.services.exported == put.count && status.services.imported == done.published.count, "counts after \(step)")

        // Imports: services lists exactly what the machine published on its link (besides
        // what it holds back as unreachable, listed as such).
        let services = StatusReport.services(view)
        let listed = Set(services.filter { $0.origin == .imported && $0.route?.path != .unreachable }.map { "\($0.name)|\($0.type)|\($0.island?.id ?? "")" })
        let published = Set(done.published.map { "\($0.value.name.value)|\($0.value.type)|\($0.key.island)" })
        #expect(listed == published, "imports after \(step)")

        // Local services: the verdict services shows is the decision the machine stated.
        for service in services where service.origin == .local {
            let id = ServiceID(name: try InstanceName(service.name), type: try ServiceType(service.type))
            guard let denied = done.exportDenied[id] else { continue } // still settling: nothing stated yet
            #expect(service.policy?.permits == !denied, "services' verdict for \(id) after \(step)")
            let trace = try #require(ServiceExplainer(view: view, events: log).explain("\(service.name).\(service.type)", dht: [:])
                .traces.first { $0.direction == .outbound })
            #expect((trace.steps.first { $0.step == .exportPolicy }?.outcome == .failed) == denied, "explain's export policy for \(id) after \(step)")
            let exported = put.contains { $0.id.service == id }
            #expect((trace.steps.first { $0.step == .exported }?.outcome == .passed) == exported, "explain's export for \(id) after \(step)")
        }

        // Remote instances: explain says crossed exactly for what is published, and a denial where the machine held one back.
        for key in view.received {
            let explained = ServiceExplainer(view: view, events: log).explain("\(key.name.value).\(key.type)", dht: [:])
            guard let trace = explained.traces.first(where: { $0.direction == .inbound && $0.island.id == "\(key.island)" }) else {
                Issue.record("no trace for received \(key) after \(step)")
                continue
            }
            #expect(trace.crossed == (done.published[key] != nil), "explain's crossing for \(key) after \(step)")
            if done.importDenied.contains(key) {
                #expect(trace.steps.first { $0.step == .importPolicy }?.outcome == .failed, "explain's import policy for \(key) after \(step)")
            }
        }
    }
}
