import DNSSD
import Policy
import Testing

/// Rules that pick instances by name, host or address (issue 15): globs, prefixes, and
/// fields left out.
struct NameGlobTests {
    func glob(_ text: String) throws -> NameGlob { try NameGlob(text) }

    @Test func starAndQuestionMarkStandForAnyRunAndOneCharacter() throws {
        #expect(try glob("Lab*").matches("Lab Printer 3"))
        #expect(try glob("Lab*").matches("Lab"))
        #expect(try glob("*Printer*").matches("Lab Printer 3"))
        #expect(try glob("Room ?? TV").matches("Room 12 TV"))
        #expect(try !glob("Room ?? TV").matches("Room 1 TV"))
        #expect(try glob("a*b*c").matches("aXbYbZc"))
        #expect(try !glob("a*b*c").matches("aXbYcZ"))
        #expect(try glob("*").matches(""))
        #expect(try !glob("Lab").matches("Lab Printer"), "no star: the whole name")
    }

    @Test func lettersCompareWithoutRegardToCaseInAnyScript() throws {
        #expect(try glob("lab printer*").matches("LAB PRINTER 3"))
        #expect(try glob("RAUM Ä*").matches("Raum ä (2. OG)"))
        #expect(try glob("Café ?").matches("CAFÉ 1"))
    }

    @Test func backslashTakesStarQuestionMarkAndItselfLiterally() throws {
        #expect(try glob(#"Deal\*"#).matches("Deal*"))
        #expect(try !glob(#"Deal\*"#).matches("Deals"))
        #expect(try glob(#"Why\?"#).matches("Why?"))
        #expect(try !glob(#"Why\?"#).matches("Whys"))
        #expect(try glob(#"a\\b"#).matches(#"a\b"#))
        #expect(try glob("[lab] (2)").matches("[LAB] (2)"), "brackets and parentheses are themselves")
    }

    @Test func theUnescapedNameIsMatchedNotAvahisPresentationForm() throws {
        let name = try InstanceName("Lab Printer; 2.OG")
        #expect(try glob("Lab Printer; 2.*").matches(name.value))
        #expect(try !glob("Lab*032*").matches(name.value), "not Lab\\032Printer\\059...")
    }

    @Test func badPatternsAreRefusedWithAReason() {
        func reason(_ text: String) -> String {
            do { _ = try NameGlob(text); return "accepted" } catch { return error.description }
        }
        #expect(reason("").contains("empty"))
        #expect(reason(#"Lab\"#).contains("lone"))
        #expect(reason(#"\d+"#).contains("escapes nothing"))
        #expect(reason("tab\there").contains("control character U+9"))
    }

    @Test func onlyStarsMatchEverything() throws {
        #expect(try glob("**").matchesEverything)
        #expect(try !glob("*?").matchesEverything)
        #expect(try !glob(#"\*"#).matchesEverything)
    }
}

struct AddressPrefixTests {
    @Test func prefixesOfBothFamiliesAndSingleAddressesParse() throws {
        #expect(try IPPrefix(policy: "10.1.2.0/24").description == "10.1.2.0/24")
        #expect(try IPPrefix(policy: "fd00:1::/64").description == "fd00:1::/64")
        #expect(try IPPrefix(policy: "10.1.2.7") == IPPrefix(IPAddress("10.1.2.7"), length: 32))
        #expect(try IPPrefix(policy: "fd00::7") == IPPrefix(IPAddress("fd00::7"), length: 128))
        #expect(try IPPrefix(policy: "0.0.0.0/0").length == 0)
    }

    @Test func badPrefixesAreRefusedWithAReason() {
        func reason(_ text: String) -> String {
            do { _ = try IPPrefix(policy: text); return "accepted" } catch { return error.description }
        }
        #expect(reason("10.1.2.7/24").contains("did you mean 10.1.2.0/24?"))
        #expect(reason("10.1.2.0/33").contains("0 to 32"))
        #expect(reason("fd00::/129").contains("0 to 128"))
        #expect(reason("10.1.2.0/+24").contains("0 to 32"))
        #expect(reason("10.1.2/24").contains("not an IPv4 or IPv6 address"))
        #expect(reason("lab/24").contains("not an IPv4 or IPv6 address"))
        #expect(reason("10.1.2.0/24/8").contains("more than one"))
        #expect(reason("").contains("not an IPv4 or IPv6 address"))
    }
}

struct InstanceRuleTests {
    let ipp = try! ServiceType("_ipp._tcp")
    let north = PolicyIsland(id: 0x42, name: "north")

    func service(_ name: String, host: String = "printer.local", _ addresses: [String] = ["10.0.1.5"]) throws -> PolicyService {
        PolicyService(type: ipp, name: try InstanceName(name), host: try HostName(host), addresses: try addresses.map { try IPAddress($0) })
    }

    func verdict(_ rule: PolicyRule, _ service: PolicyService, default action: PolicyAction = .permit) -> Verdict {
        Policy(rules: [rule], defaultAction: action).evaluate(direction: .export, service: service, island: north)
    }

    @Test func aNameGlobPicksOneDeviceAndLeavesTheOthersOfItsType() throws {
        let rule = PolicyRule(.deny, type: .exact(ipp), name: try NameGlob("lab printer*"))
        #expect(verdict(rule, try service("Lab Printer 3")).ruleNumber == 1)
        #expect(verdict(rule, try service("Office Printer")).ruleNumber == nil)
    }

    @Test func aHostGlobMatchesTheWholeHostNameOrItsFirstLabel() throws {
        for pattern in ["lab-?", "LAB-?.local", "*.local", "lab-*"] {
            let rule = PolicyRule(.deny, host: try NameGlob(pattern))
            #expect(verdict(rule, try service("X", host: "lab-3.local")).action == .deny, "\(pattern)")
        }
        let rule = PolicyRule(.deny, host: try NameGlob("lab-?"))
        #expect(verdict(rule, try service("X", host: "lab-30.local")).action == .permit)
        #expect(verdict(rule, try service("X", host: "printer.local")).action == .permit)
    }

    @Test func anAddressPrefixMatchesWhenAnyAddressIsInsideInEitherFamily() throws {
        let v4 = PolicyRule(.deny, address: try IPPrefix(policy: "10.1.2.0/24"))
        #expect(verdict(v4, try service("X", ["fd00::1", "10.1.2.200"])).action == .deny)
        #expect(verdict(v4, try service("X", ["10.1.3.1"])).action == .permit)
        #expect(verdict(v4, try service("X", ["::ffff:10.1.2.3"])).action == .permit, "an IPv6 address is never in an IPv4 prefix")
        let v6 = PolicyRule(.deny, address: try IPPrefix(policy: "fd00:1::/64"))
        #expect(verdict(v6, try service("X", ["10.1.2.7", "fd00:1::abcd"])).action == .deny)
        #expect(verdict(v6, try service("X", ["fd00:2::abcd"])).action == .permit)
        #expect(verdict(v6, try service("X", [])).action == .permit, "no address is inside anything")
    }

    @Test func everyGivenCriterionMustMatchAndAbsentOnesMatchAnything() throws {
        let rule = PolicyRule(.deny, type: .exact(ipp), name: try NameGlob("Lab*"), host: try NameGlob("lab-*"),
                              address: try IPPrefix(policy: "10.1.2.0/24"))
        #expect(verdict(rule, try service("Lab 1", host: "lab-1.local", ["10.1.2.1"])).action == .deny)
        #expect(verdict(rule, try service("Office", host: "lab-1.local", ["10.1.2.1"])).action == .permit)
        #expect(verdict(rule, try service("Lab 1", host: "office.local", ["10.1.2.1"])).action == .permit)
        #expect(verdict(rule, try service("Lab 1", host: "lab-1.local", ["10.9.9.9"])).action == .permit)
        #expect(verdict(PolicyRule(.deny), try service("Anything")).action == .deny)
    }

    @Test func aQuestionWithoutTheFactsARulePicksByPassesItOver() throws {
        let policy = Policy(rules: [
            PolicyRule(.deny, name: try NameGlob("Lab*")),
            PolicyRule(.deny, name: try NameGlob("*")),
        ], defaultAction: .permit)
        let typeOnly = PolicyService(type: ipp)
        // Rule 1 cannot match without a name; rule 2 matches every name, so any.
        #expect(policy.evaluate(direction: .import, service: typeOnly, island: north).ruleNumber == 2)
        #expect(policy.passedOver(direction: .import, service: typeOnly, island: north) == [1])
        #expect(policy.passedOver(direction: .import, service: try service("Lab 1"), island: north) == [])
        let addressOnly = Policy(rules: [PolicyRule(.permit, address: try IPPrefix(policy: "10.0.0.0/8"))], defaultAction: .deny)
        #expect(addressOnly.evaluate(direction: .export, type: ipp, island: north).action == .deny)
        #expect(addressOnly.passedOver(direction: .export, service: typeOnly, island: north) == [1])
    }

    @Test func someInstanceMayCrossUnlessARuleDeniesThemAll() throws {
        func may(_ rules: [PolicyRule], default action: PolicyAction = .permit) -> Bool {
            Policy(rules: rules, defaultAction: action).mayPermit(direction: .import, type: ipp, island: north)
        }
        let lab = try NameGlob("Lab*"), subnet = try IPPrefix(policy: "10.0.0.0/8")
        #expect(may([]))
        #expect(!may([], default: .deny))
        #expect(may([PolicyRule(.deny, name: lab)]))
        #expect(!may([PolicyRule(.deny, name: lab), PolicyRule(.deny, type: .exact(ipp))]))
        #expect(may([PolicyRule(.permit, address: subnet)], default: .deny))
        #expect(!may([PolicyRule(.deny, name: try NameGlob("*"))]), "a glob of stars picks every instance")
        #expect(!may([PolicyRule(.deny, direction: .import)]))
        #expect(may([PolicyRule(.deny, direction: .export)]))
    }

    @Test func rulesDescribeTheirInstanceCriteria() throws {
        let rule = PolicyRule(.deny, direction: .export, type: .exact(ipp), name: try NameGlob("Lab*"), host: try NameGlob("lab-?"),
                              address: try IPPrefix(policy: "10.1.2.0/24"), comment: "lab only")
        #expect(rule.description == #"deny export type=_ipp._tcp island=* name="Lab*" host="lab-?" address=10.1.2.0/24 # lab only"#)
    }

    @Test func aLocalServiceIsJudgedByAllItsAddressesLinkLocalOnesIncluded() throws {
        let instance = ServiceInstance(name: try InstanceName("Camera"), type: ipp, host: try HostName("cam.local"), port: 554,
                                       addresses: [try IPAddress("169.254.7.7"), try IPAddress("10.0.0.7")])
        let service = PolicyService(instance)
        #expect(service.addresses.count == 2 && service.host?.value == "cam.local" && service.name?.value == "Camera")
        let rule = PolicyRule(.deny, address: try IPPrefix(policy: "169.254.0.0/16"))
        #expect(verdict(rule, service).action == .deny)
    }
}
