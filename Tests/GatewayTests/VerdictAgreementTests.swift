import DNSSD
import Foundation
@testable import Gateway
import GatewayReports
import Island
import Primitives
import LocalDomain
import Policy
import Rendezvous
import Testing
import Z2ZAPI

/// What the gateway does and what it says it does are one answer: for every form a rule
/// can name an island in (its id, its name, `*`, a tag of types), the machine's decision,
/// `z2z services`, `z2z explain` and `z2z policy test` give the same verdict. (The running
/// gateway once asked the export policy with the island's name only, so a rule naming the
/// island by id was ignored by it while explain, services and policy test said it denied.)
struct VerdictAgreementTests {
    static let network = NetworkID(rawValue: 0x2a)
    static let printing = try! ServiceType("_ipp._tcp")

    /// The island forms a rule can name this island (`north`, `Fixture.islandA`) by.
    static func islandForms(id: IslandID, name: String) -> [(String, IslandMatch, TypeMatch)] {
        [("id", .id(id.rawValue), .exact(printing)), ("name", .name(name), .exact(printing)),
         ("*", .any, .exact(printing)), ("tag", .any, .tag("printing"))]
    }

    static func policy(_ action: PolicyAction, _ direction: DirectionMatch, island: IslandMatch, type: TypeMatch) -> Policy {
        Policy(rules: [PolicyRule(action, direction: direction, type: type, island: island, line: 7)],
               tags: ["printing": [printing]])
    }

    /// A lone gateway leading island A ("north"), its listen window over.
    static func leader(_ policy: Policy) -> (GatewayMachine, EventLog) {
        let settings = GatewayMachine.Settings(id: NodeID(w0: 1, w1: 0, w2: 0, w3: 0), network: network, priority: 100, port: 7400,
                                               island: Fixture.islandA, islandName: "north", seed: 1)
        var machine = GatewayMachine(settings: settings, policy: policy)
        var log = EventLog()
        for effect in machine.handle(.tick, now: .zero) + machine.handle(.tick, now: .zero + .seconds(3.1)) {
            if case .fact(let fact) = effect { log.append(fact) }
        }
        return (machine, log)
    }

    static func run(_ machine: inout GatewayMachine, _ event: GatewayMachine.Event, at seconds: Double, log: inout EventLog)
        -> [GatewayMachine.Effect] {
        let effects = machine.handle(event, now: .zero + .seconds(seconds))
        for case .fact(let fact) in effects { log.append(fact) }
        return effects
    }

    @Test(arguments: [PolicyAction.deny, .permit])
    func exportVerdictsAgreeForEveryIslandForm(action: PolicyAction) throws {
        for (form, island, type) in Self.islandForms(id: Fixture.islandA, name: "north") {
            // The rule decides; the default says the opposite, so a rule that is ignored shows.
            var policy = Self.policy(action, .export, island: island, type: type)
            policy.defaultAction = action == .deny ? .permit : .deny
            var (machine, log) = Self.leader(policy)
            #expect(machine.role == .leader)
            let service = try Fixture.service("Office Printer")
            var effects = Self.run(&machine, .local(.added(service)), at: 4, log: &log)
            effects += Self.run(&machine, .tick, at: 5, log: &log)

            // What the machine did.
            let exported = effects.contains { if case .fact(.exported(let record, _, _)) = $0 { record.name == service.id.name } else { false } }
            let denial = effects.compactMap { effect -> Verdict? in
                if case .fact(.exportSkipped(_, .denied(let verdict))) = effect { verdict } else { nil }
            }.first
            #expect(exported == (action == .permit), "the machine, rule by \(form)")
            #expect((denial != nil) == (action == .deny), "the machine's denial, rule by \(form)")
            if let denial { #expect(denial.ruleNumber == 1, "decided by the rule naming the island by \(form)") }

            // What z2z services says.
            let view = machine.view
            let listed = try #require(StatusReport.services(view).first { $0.name == "Office Printer" })
            #expect(listed.policy?.action.rawValue == action.rawValue && listed.policy?.ruleNumber == 1, "services, rule by \(form)")

            // What z2z explain says.
            let trace = try #require(ServiceExplainer(view: view, events: log).explain("Office Printer._ipp._tcp", dht: [:]).traces.first)
            let step = try #require(trace.steps.first { $0.step == .exportPolicy })
            #expect(step.outcome == (action == .permit ? .passed : .failed), "explain, rule by \(form)")

            // What z2z policy test says, for the island typed by id and by name.
            let islands = StatusReport.islands(view)
            for typed in ["\(Fixture.islandA)", "north", "NORTH"] {
                let subject = IslandRef.resolve(typed, among: islands).policyIsland
                let tested = PolicyGate(policy: policy).verdicts(PolicyService(type: Self.printing), island: subject).export
                #expect(tested.action == action && tested.ruleNumber == 1, "policy test \(typed), rule by \(form)")
            }
        }
    }

    @Test(arguments: [PolicyAction.deny, .permit])
    func importVerdictsAgreeForEveryIslandForm(action: PolicyAction) throws {
        for (form, island, type) in Self.islandForms(id: Fixture.islandB, name: "island-b") {
            var policy = Self.policy(action, .import, island: island, type: type)
            policy.defaultAction = action == .deny ? .permit : .deny
            var (machine, log) = Self.leader(policy)
            let owner = NodeID(w0: 0xb, w1: 0, w2: 0, w3: 0)
            let entry = IslandDirectoryEntry(island: Fixture.islandB, name: "island-b", leader: owner, types: [Self.printing],
                                             services: 1, term: 5)
            let record = try Fixture.record("Far Printer")
            _ = Self.run(&machine, .rendezvous(.upserted(RendezvousValue(
                key: RecordKeys.directory(network: Self.network), owner: owner, valueID: 0, sequence: 1,
                payload: IslandDirectoryCodec.encode(entry)))), at: 4, log: &log)
            let effects = Self.run(&machine, .rendezvous(.upserted(RendezvousValue(
                key: RecordKeys.type(Self.printing, network: Self.network), owner: owner,
                valueID: RecordKeys.valueID(of: record.name, type: record.type), sequence: 1,
                payload: ServiceRecordCodec.encode(record)))), at: 4, log: &log)

            // What the machine did. (A type the policy keeps out is not even followed:
            // the record comes by a get, as explain's DHT answer below.)
            let imported = effects.contains { if case .fact(.imported) = $0 { true } else { false } }
            #expect(imported == (action == .permit), "the machine, rule by \(form)")
            let view = machine.view
            #expect(view.imports.isEmpty == (action == .deny))

            // What z2z services and explain say.
            #expect(StatusReport.services(view).contains { $0.name == "Far Printer" } == (action == .permit), "services, rule by \(form)")
            if let listed = StatusReport.services(view).first(where: { $0.name == "Far Printer" }) {
                #expect(listed.policy?.ruleNumber == 1, "services names the rule, by \(form)")
            }
            let value = RendezvousValue(key: RecordKeys.type(Self.printing, network: Self.network), owner: owner,
                                        valueID: RecordKeys.valueID(of: record.name, type: record.type), sequence: 1,
                                        payload: ServiceRecordCodec.encode(record))
            let explained = ServiceExplainer(view: view, events: log).explain("Far Printer._ipp._tcp", dht: [Self.printing: .values([value])])
            let trace = try #require(explained.traces.first { $0.direction == .inbound })
            let step = try #require(trace.steps.first { $0.step == .importPolicy })
            #expect(step.outcome == (action == .permit ? .passed : .failed), "explain, rule by \(form)")
            #expect(trace.crossed == (action == .permit))

            // What z2z policy test says, for the island typed by id and by name.
            let islands = StatusReport.islands(view)
            for typed in ["\(Fixture.islandB)", "island-b"] {
                let subject = IslandRef.resolve(typed, among: islands).policyIsland
                let tested = PolicyGate(policy: policy).verdicts(PolicyService(type: Self.printing), island: subject).import
                #expect(tested.action == action && tested.ruleNumber == 1, "policy test \(typed), rule by \(form)")
            }
        }
    }
}

/// The same agreement for rules that pick instances (issue 15): by name glob, host glob,
/// IPv4 and IPv6 prefix. Two printers of one type, one picked by the rule: the machine,
/// `z2z services`, `z2z explain` and `z2z policy test` (given the instance's facts) give the
/// rule's verdict for the one and the default's for the other.
struct InstanceVerdictAgreementTests {
    typealias Agreement = VerdictAgreementTests

    /// The rules by which `Lab Printer` (host lab-3, 10.0.9.7 and fd00:9::7) is picked and
    /// `Office Printer` (host printer, 10.0.1.5 and fe80::5) is not.
    static func instanceRules(_ action: PolicyAction, _ direction: DirectionMatch) throws -> [(String, PolicyRule)] {
        let type = TypeMatch.exact(Agreement.printing)
        return [
            ("name", PolicyRule(action, direction: direction, type: type, name: try NameGlob("lab*"), line: 7)),
            ("host", PolicyRule(action, direction: direction, type: type, host: try NameGlob("LAB-?"), line: 7)),
            ("IPv4 prefix", PolicyRule(action, direction: direction, type: type, address: try IPPrefix(policy: "10.0.9.0/24"), line: 7)),
            ("IPv6 prefix", PolicyRule(action, direction: direction, type: type, address: try IPPrefix(policy: "fd00:9::/64"), line: 7)),
        ]
    }

    /// What each printer should get: the rule's action for the picked one, the default's for the other.
    static func expected(_ name: String, _ action: PolicyAction) -> (action: PolicyAction, rule: Int?) {
        name == "Lab Printer" ? (action, 1) : (action == .deny ? .permit : .deny, nil)
    }

    @Test(arguments: [PolicyAction.deny, .permit])
    func exportVerdictsAgreeForEveryInstanceForm(action: PolicyAction) throws {
        for (form, rule) in try Self.instanceRules(action, .export) {
            let policy = Policy(rules: [rule], defaultAction: action == .deny ? .permit : .deny)
            var (machine, log) = Agreement.leader(policy)
            let lab = try Fixture.service("Lab Printer", host: "lab-3.local", addresses: ["10.0.9.7", "fd00:9::7"])
            let office = try Fixture.service("Office Printer")
            var effects = Agreement.run(&machine, .local(.added(lab)), at: 4, log: &log)
            effects += Agreement.run(&machine, .local(.added(office)), at: 4, log: &log)
            effects += Agreement.run(&machine, .tick, at: 5, log: &log)
            let view = machine.view
            for service in [lab, office] {
                let name = service.id.name.value
                let (wanted, ruleNumber) = Self.expected(name, action)
                let because = "\(name), rule by \(form)"

                // What the machine did.
                let exported = effects.contains { if case .fact(.exported(let record, _, _)) = $0 { record.name == service.id.name } else { false } }
                let denial = effects.compactMap { effect -> Verdict? in
                    if case .fact(.exportSkipped(let id, .denied(let verdict))) = effect, id == service.id { verdict } else { nil }
                }.first
                #expect(exported == (wanted == .permit), "the machine, \(because)")
                #expect(denial?.ruleNumber == (wanted == .deny ? ruleNumber : nil), "the machine's denial, \(because)")

                // What z2z services says.
                let listed = try #require(StatusReport.services(view).first { $0.name == name })
                #expect(listed.policy?.action.rawValue == wanted.rawValue && listed.policy?.ruleNumber == ruleNumber, "services, \(because)")

                // What z2z explain says.
                let trace = try #require(ServiceExplainer(view: view, events: log).explain("\(name)._ipp._tcp", dht: [:]).traces.first)
                let step = try #require(trace.steps.first { $0.step == .exportPolicy })
                #expect(step.outcome == (wanted == .permit ? .passed : .failed), "explain, \(because)")

                // What z2z policy test says, given the instance's facts.
                let subject = IslandRef.resolve("north", among: StatusReport.islands(view)).policyIsland
                let tested = PolicyGate(policy: policy).verdicts(PolicyService(service.instance), island: subject).export
                #expect(tested.action == wanted && tested.ruleNumber == ruleNumber, "policy test, \(because)")
            }
        }
    }

    @Test(arguments: [PolicyAction.deny, .permit])
    func importVerdictsAgreeForEveryInstanceForm(action: PolicyAction) throws {
        for (form, rule) in try Self.instanceRules(action, .import) {
            let policy = Policy(rules: [rule], defaultAction: action == .deny ? .permit : .deny)
            var (machine, log) = Agreement.leader(policy)
            let owner = NodeID(w0: 0xb, w1: 0, w2: 0, w3: 0)
            let entry = IslandDirectoryEntry(island: Fixture.islandB, name: "island-b", leader: owner, types: [Agreement.printing],
                                             services: 2, term: 5)
            let directory = RendezvousValue(key: RecordKeys.directory(network: Agreement.network), owner: owner, valueID: 0,
                                            sequence: 1, payload: IslandDirectoryCodec.encode(entry))
            var effects = Agreement.run(&machine, .rendezvous(.upserted(directory)), at: 4, log: &log)
            // Followed whatever the verdicts: some printer of the type may come in.
            #expect(effects.contains { if case .subscribe = $0 { true } else { false } }, "subscribed, rule by \(form)")
            let lab = try Fixture.record("Lab Printer", addresses: ["10.0.9.7", "fd00:9::7"], host: "lab-3")
            let office = try Fixture.record("Office Printer")
            func value(_ record: ServiceRecord) -> RendezvousValue {
                RendezvousValue(key: RecordKeys.type(Agreement.printing, network: Agreement.network), owner: owner,
                                valueID: RecordKeys.valueID(of: record.name, type: record.type), sequence: 1,
                                payload: ServiceRecordCodec.encode(record))
            }
            for record in [lab, office] { effects += Agreement.run(&machine, .rendezvous(.upserted(value(record))), at: 4, log: &log) }
            let view = machine.view
            for record in [lab, office] {
                let name = record.name.value
                let (wanted, ruleNumber) = Self.expected(name, action)
                let because = "\(name), rule by \(form)"

                // What the machine did.
                let imported = effects.contains { if case .fact(.imported(let key, _, _)) = $0 { key == record.id } else { false } }
                #expect(imported == (wanted == .permit), "the machine, \(because)")
                #expect((view.imports[record.id] != nil) == (wanted == .permit), "the machine's imports, \(because)")

                // What z2z services says (imports held by the policy are not listed).
                let listed = StatusReport.services(view).first { $0.name == name }
                #expect((listed != nil) == (wanted == .permit), "services, \(because)")
                if let listed { #expect(listed.policy?.ruleNumber == ruleNumber, "services names the rule, \(because)") }

                // What z2z explain says.
                let explained = ServiceExplainer(view: view, events: log).explain("\(name)._ipp._tcp", dht: [Agreement.printing: .values([value(record)])])
                let trace = try #require(explained.traces.first { $0.direction == .inbound })
                let step = try #require(trace.steps.first { $0.step == .importPolicy })
                #expect(step.outcome == (wanted == .permit ? .passed : .failed), "explain, \(because)")
                #expect(step.detail.contains(ruleNumber.map { "rule \($0)" } ?? "default"), "explain names the rule, \(because)")

                // What z2z policy test says, given the facts of the record as island B published it.
                let subject = IslandRef.resolve("island-b", among: StatusReport.islands(view)).policyIsland
                let service = PolicyService(type: record.type, name: record.name, host: try HostName("\(record.hostLabel).local"),
                                            addresses: record.addresses)
                let tested = PolicyGate(policy: policy).verdicts(service, island: subject).import
                #expect(tested.action == wanted && tested.ruleNumber == ruleNumber, "policy test, \(because)")
            }
        }
    }

    /// A type whose every instance a rule denies is not followed at all; one a picking deny
    /// leaves some instances of still is.
    @Test func aTypeIsFollowedUnlessEveryInstanceOfItIsDenied() throws {
        let printing = TypeMatch.exact(Agreement.printing)
        let cases: [(Policy, Bool)] = [
            (Policy(rules: [PolicyRule(.deny, direction: .import, type: printing)]), false),
            (Policy(rules: [PolicyRule(.deny, direction: .import, type: printing, name: try NameGlob("lab*"))]), true),
            (Policy(rules: [PolicyRule(.deny, direction: .import, type: printing, name: try NameGlob("**"))]), false),
            (Policy(rules: [PolicyRule(.permit, type: printing, address: try IPPrefix(policy: "10.0.9.0/24"))], defaultAction: .deny), true),
            (Policy(rules: [PolicyRule(.deny, host: try NameGlob("lab-*")), PolicyRule(.deny, type: printing)]), false),
        ]
        for (policy, followed) in cases {
            var (machine, log) = Agreement.leader(policy)
            let owner = NodeID(w0: 0xb, w1: 0, w2: 0, w3: 0)
            let entry = IslandDirectoryEntry(island: Fixture.islandB, name: "island-b", leader: owner, types: [Agreement.printing],
                                             services: 1, term: 5)
            let effects = Agreement.run(&machine, .rendezvous(.upserted(RendezvousValue(
                key: RecordKeys.directory(network: Agreement.network), owner: owner, valueID: 0, sequence: 1,
                payload: IslandDirectoryCodec.encode(entry)))), at: 4, log: &log)
            #expect(effects.contains { if case .subscribe = $0 { true } else { false } } == followed, "\(policy.rules)")
        }
    }
}

/// The relay carries streams only to services this island exports now, and only for
/// another island's leader (issue 14, item 3): never an open proxy to the link.
struct RelayTargetTests {
    @Test func onlyExportedServicesForOtherIslandsLeaders() throws {
        let network = NetworkID(rawValue: 0x2a)
        let settings = GatewayMachine.Settings(id: NodeID(w0: 1, w1: 0, w2: 0, w3: 0), network: network, priority: 100, port: 7400,
                                               island: Fixture.islandA, islandName: "north", seed: 1)
        let deny = PolicyRule(.deny, direction: .export, type: .exact(try ServiceType("_ssh._tcp")))
        var machine = GatewayMachine(settings: settings, policy: Policy(rules: [deny]))
        let printer = try Fixture.service("Printer"), shell = try Fixture.service("Shell", type: "_ssh._tcp")
        let stranger = NodeID(w0: 0x5, w1: 0, w2: 0, w3: 0), leaderB = NodeID(w0: 0xb, w1: 0, w2: 0, w3: 0)
        // Not leading yet: the leader relays.
        #expect(machine.view.relayTarget(printer.id, for: leaderB) == .failure(.notLeading))
        _ = machine.handle(.tick, now: .zero)
        _ = machine.handle(.tick, now: .zero + .seconds(3.1))
        for service in [printer, shell] { _ = machine.handle(.local(.added(service)), now: .zero + .seconds(4)) }
        _ = machine.handle(.tick, now: .zero + .seconds(5))
        let entry = IslandDirectoryEntry(island: Fixture.islandB, name: "south", leader: leaderB, types: [], services: 0, term: 1)
        _ = machine.handle(.rendezvous(.upserted(RendezvousValue(key: RecordKeys.directory(network: network), owner: leaderB, valueID: 0,
                                                                 sequence: 1, payload: IslandDirectoryCodec.encode(entry)))),
                           now: .zero + .seconds(5))
        let view = machine.view
        #expect(view.relayTarget(printer.id, for: stranger) == .failure(.notAGateway))
        #expect(view.relayTarget(printer.id, for: leaderB) == .success(RelayTarget(addresses: printer.linkAddresses, port: 631)))
        #expect(view.relayTarget(shell.id, for: leaderB) == .failure(.notExported), "denied by the export policy")
        #expect(view.relayTarget(ServiceID(name: try InstanceName("Nothing"), type: printer.id.type), for: leaderB) == .failure(.unknownService))
    }
}
