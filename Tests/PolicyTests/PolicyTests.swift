import DNSSD
import Policy
import Testing

struct PolicyTests {
    let ipp = try! ServiceType("_ipp._tcp")
    let ssh = try! ServiceType("_ssh._tcp")
    let raop = try! ServiceType("_raop._tcp")
    let office = PolicyIsland(id: 0x1a2b_3c4d_5e6f_7081, name: "Office")
    let lab = PolicyIsland(id: 0x0000_0000_0000_0042, name: "lab")

    @Test func emptyPolicyPermitsEverythingByDefault() {
        let verdict = Policy.permitAll.evaluate(direction: .import, type: ipp, island: office)
        #expect(verdict.action == .permit)
        #expect(verdict.ruleNumber == nil && verdict.rule == nil)
        #expect(verdict.description == "default: permit")
    }

    @Test func firstMatchingRuleDecidesNotTheMostSpecific() {
        let policy = Policy(rules: [
            PolicyRule(.deny, type: .any, island: .name("office")),
            PolicyRule(.permit, type: .exact(ipp)),
        ])
        #expect(policy.evaluate(direction: .import, type: ipp, island: office).action == .deny)
        #expect(policy.evaluate(direction: .import, type: ipp, island: office).ruleNumber == 1)
        #expect(policy.evaluate(direction: .import, type: ipp, island: lab).ruleNumber == 2)
    }

    @Test func defaultDecidesWhenNoRuleMatches() {
        let policy = Policy(rules: [PolicyRule(.permit, type: .exact(ipp))], defaultAction: .deny)
        let verdict = policy.evaluate(direction: .export, type: ssh, island: office)
        #expect(verdict.action == .deny && verdict.ruleNumber == nil)
        #expect(verdict.description == "default: deny")
    }

    @Test func directionRestrictsARule() {
        let policy = Policy(rules: [PolicyRule(.deny, direction: .export, type: .exact(ssh))])
        #expect(policy.evaluate(direction: .export, type: ssh, island: office).action == .deny)
        #expect(policy.evaluate(direction: .import, type: ssh, island: office).action == .permit)
        let both = Policy(rules: [PolicyRule(.deny, direction: .both, type: .exact(ssh))])
        #expect(PolicyDirection.allCases.allSatisfy { both.evaluate(direction: $0, type: ssh, island: office).action == .deny })
        let importOnly = Policy(rules: [PolicyRule(.deny, direction: .import)])
        #expect(importOnly.evaluate(direction: .export, type: ssh, island: office).action == .permit)
        #expect(importOnly.evaluate(direction: .import, type: ssh, island: office).action == .deny)
    }

    @Test func serviceTypesCompareCaseInsensitivelyLikeDNSNames() throws {
        let policy = Policy(rules: [PolicyRule(.deny, type: .exact(try ServiceType("_IPP._tcp")))])
        #expect(policy.evaluate(direction: .import, type: ipp, island: office).action == .deny)
        #expect(policy.evaluate(direction: .import, type: try ServiceType("_ipp._udp"), island: office).action == .permit)
    }

    @Test func islandMatchesByIdOrByNameIgnoringCase() {
        let byID = Policy(rules: [PolicyRule(.deny, island: .id(0x1a2b_3c4d_5e6f_7081))])
        #expect(byID.evaluate(direction: .import, type: ipp, island: office).action == .deny)
        #expect(byID.evaluate(direction: .import, type: ipp, island: lab).action == .permit)
        // Known only by name: an id rule cannot match it.
        #expect(byID.evaluate(direction: .import, type: ipp, island: PolicyIsland(name: "Office")).action == .permit)

        let byName = Policy(rules: [PolicyRule(.deny, island: .name("OFFICE"))])
        #expect(byName.evaluate(direction: .import, type: ipp, island: office).action == .deny)
        #expect(byName.evaluate(direction: .import, type: ipp, island: PolicyIsland(id: office.id)).action == .permit)
    }

    @Test func tagMatchesEveryTypeOfItsGroupAndNothingElse() {
        let policy = Policy(
            rules: [PolicyRule(.permit, type: .tag("printing"))], defaultAction: .deny,
            tags: ["printing": [ipp, try! ServiceType("_printer._tcp")]])
        #expect(policy.evaluate(direction: .import, type: ipp, island: office).action == .permit)
        #expect(policy.evaluate(direction: .import, type: try! ServiceType("_Printer._tcp"), island: office).action == .permit)
        #expect(policy.evaluate(direction: .import, type: raop, island: office).action == .deny)
    }

    @Test func aTagThatIsNotDefinedMatchesNothingAndIsReported() {
        let policy = Policy(rules: [PolicyRule(.deny, type: .tag("media"))])
        #expect(policy.evaluate(direction: .import, type: raop, island: office).action == .permit)
        #expect(policy.undefinedTags == ["media"])
    }

    @Test func verdictNamesTheRuleItsLineAndComment() {
        let rule = PolicyRule(.deny, direction: .import, type: .exact(ssh), island: .any, comment: "no remote logins", line: 41)
        let policy = Policy(rules: [PolicyRule(.permit, type: .exact(ipp)), rule])
        let verdict = policy.evaluate(direction: .import, type: ssh, island: lab)
        #expect(verdict.ruleNumber == 2)
        #expect(verdict.rule == rule)
        #expect(verdict.description == "rule 2 (line 41): deny import type=_ssh._tcp island=* # no remote logins")
    }

    @Test func ruleDescriptionsReadLikeTheConfiguration() {
        #expect(PolicyRule(.permit).description == "permit both type=* island=*")
        #expect(PolicyRule(.deny, direction: .export, type: .tag("media"), island: .id(0x42)).description
            == "deny export tag=media island=0000000000000042")
        #expect(PolicyRule(.permit, island: .name("lab")).description == "permit both type=* island=lab")
    }

    @Test func islandMatchParsesStarIdAndName() throws {
        #expect(try IslandMatch(parsing: "*") == .any)
        #expect(try IslandMatch(parsing: "1a2b3c4d5e6f7081") == .id(0x1a2b_3c4d_5e6f_7081))
        #expect(try IslandMatch(parsing: "1A2B3C4D5E6F7081") == .id(0x1a2b_3c4d_5e6f_7081))
        #expect(try IslandMatch(parsing: "office") == .name("office"))
        // Fifteen hex digits are a name, not an id.
        #expect(try IslandMatch(parsing: "1a2b3c4d5e6f708") == .name("1a2b3c4d5e6f708"))
        #expect(throws: PolicyError.self) { try IslandMatch(parsing: "") }
        #expect(throws: PolicyError.self) { try IslandMatch(parsing: "tab\there") }
        #expect(throws: PolicyError.self) { try IslandMatch(parsing: String(repeating: "x", count: 64)) }
    }

    @Test func typeMatchParsesStarOrAServiceType() throws {
        #expect(try TypeMatch(parsing: "*") == .any)
        #expect(try TypeMatch(parsing: "_ipp._tcp") == .exact(ipp))
        #expect(throws: DNSSDError.self) { try TypeMatch(parsing: "ipp") }
        #expect(throws: DNSSDError.self) { try TypeMatch(parsing: "_ipp._sctp") }
    }

    @Test func policyIslandReadsWhatAPersonTyped() {
        #expect(PolicyIsland(parsing: "0000000000000042") == PolicyIsland(id: 0x42))
        #expect(PolicyIsland(parsing: "lab") == PolicyIsland(name: "lab"))
        #expect(office.description == "Office (1a2b3c4d5e6f7081)")
    }

    /// Every (direction, type, island) gets exactly one verdict, and it is the first matching
    /// rule's, checked against a brute-force reading of the rules.
    @Test func verdictIsAlwaysTheFirstMatchingRuleOverAGrid() throws {
        let types = [ipp, ssh, raop]
        let islands = [office, lab, PolicyIsland(name: "elsewhere"), PolicyIsland(id: 7)]
        let rules = [
            PolicyRule(.deny, direction: .export, type: .exact(ssh)),
            PolicyRule(.permit, direction: .import, type: .tag("print"), island: .name("office")),
            PolicyRule(.deny, direction: .import, island: .id(0x42)),
            PolicyRule(.permit, direction: .both, type: .exact(raop)),
        ]
        let policy = Policy(rules: rules, defaultAction: .deny, tags: ["print": [ipp]])
        for direction in PolicyDirection.allCases {
            for type in types {
                for island in islands {
                    let verdict = policy.evaluate(direction: direction, type: type, island: island)
                    let expected = rules.firstIndex { $0.matches(direction: direction, type: type, island: island, tags: policy.tags) }
                    #expect(verdict.ruleNumber == expected.map { $0 + 1 })
                    #expect(verdict.action == (expected.map { rules[$0].action } ?? .deny))
                }
            }
        }
    }
}

/// Rules naming a source and a destination (`from`, `to`), one-way rules and crossings.
struct PolicyZoneTests {
    let printer = PolicyService(type: try! ServiceType("_ipp._tcp"))
    let staff = PolicyIsland(name: "staff"), students = PolicyIsland(name: "students"), guests = PolicyIsland(name: "guests")

    var oneWay: Policy {
        Policy(rules: [PolicyRule(.permit, type: .exact(try! ServiceType("_ipp._tcp")), from: IslandSet(.name("staff")),
                                  to: IslandSet(.name("students")), oneWay: true)])
    }

    @Test func aOneWayRulePermitsItsCrossingAndDeniesTheReverse() {
        #expect(oneWay.crossing(printer, from: staff, to: students).ruleNumber == 1)
        #expect(oneWay.crossing(printer, from: staff, to: students).permits)
        let back = oneWay.crossing(printer, from: students, to: staff)
        #expect(!back.permits && back.reverse && back.ruleNumber == 1)
        // Other pairs are left to the default (permit).
        #expect(oneWay.crossing(printer, from: students, to: guests).ruleNumber == nil)
    }

    @Test func aRuleNamingADestinationPassesOverQuestionsWithoutOne() {
        let rule = PolicyRule(.deny, to: IslandSet(.name("guests")))
        let policy = Policy(rules: [rule])
        // An ordinary gateway's export does not know where a service goes: the importer decides.
        #expect(policy.evaluate(direction: .export, service: printer, island: staff).ruleNumber == nil)
        #expect(!policy.evaluate(direction: .import, service: printer, island: staff, destination: guests).permits)
        let gate = PolicyGate(policy: policy, island: guests)
        #expect(!gate.importVerdict(printer, from: staff).permits)
        #expect(!gate.mayImport(printer.type, from: staff))
        #expect(PolicyGate(policy: policy, island: students).mayImport(printer.type, from: staff))
    }

    @Test func aCrossingIsDeniedByTheSourcesExportRulesOrTheDestinationsImportRules() {
        let policy = Policy(rules: [
            PolicyRule(.deny, direction: .export, island: .name("staff")),
            PolicyRule(.deny, direction: .import, from: IslandSet(.name("guests")), to: IslandSet(.name("students"))),
        ])
        #expect(policy.crossing(printer, from: staff, to: students).ruleNumber == 1)
        #expect(policy.crossing(printer, from: guests, to: students).ruleNumber == 2)
        #expect(policy.crossing(printer, from: students, to: guests).permits)
    }
}
