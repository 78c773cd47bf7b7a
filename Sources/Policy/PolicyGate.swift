import DNSSD

/// The one place a crossing verdict is given: the policy in force and this island as the
/// rules see it — its id once the election gave it one, and the name other islands know it
/// by. The gateway's export and import decisions, `z2z services`, `z2z explain` and
/// `z2z policy test` all ask a gate, so what the gateway does and what it says it does
/// cannot disagree (an export rule naming this island by id once denied in `explain` and
/// was ignored by the running gateway, which asked with the name alone). Every verdict is
/// about one service as a `PolicyService` — with the name, host and addresses the machine
/// decides by, since rules may pick instances by them.
public struct PolicyGate: Hashable, Sendable {
    public var policy: Policy
    /// This island: the subject of every export verdict.
    public var island: PolicyIsland

    public init(policy: Policy = .permitAll, island: PolicyIsland = PolicyIsland()) {
        self.policy = policy
        self.island = island
    }

    /// May this service on this island's link be exported?
    public func exportVerdict(_ service: PolicyService) -> Verdict {
        policy.evaluate(direction: .export, service: service, island: island)
    }

    /// May this service from `origin` (another island), as its record describes it, be
    /// imported onto this link?
    public func importVerdict(_ service: PolicyService, from origin: PolicyIsland) -> Verdict {
        policy.evaluate(direction: .import, service: service, island: origin, destination: destination)
    }

    /// May any service of `type` from `origin` be imported? An importer follows only such types.
    public func mayImport(_ type: ServiceType, from origin: PolicyIsland) -> Bool {
        policy.mayPermit(direction: .import, type: type, island: origin, destination: destination)
    }

    /// This island as the destination of imports, once it is known (rules naming `to`).
    private var destination: PolicyIsland? { island.id == nil && island.name == nil ? nil : island }

    /// A crossing between two islands this gate knows both ends of (a router's links).
    public func crossingVerdict(_ service: PolicyService, from source: PolicyIsland, to destination: PolicyIsland) -> Verdict {
        policy.crossing(service, from: source, to: destination)
    }

    /// Both directions for an island named by a person (`z2z policy test`): the export
    /// verdict as if `island` were this island, the import verdict for services from it.
    public func verdicts(_ service: PolicyService, island subject: PolicyIsland) -> (export: Verdict, import: Verdict) {
        (policy.evaluate(direction: .export, service: service, island: subject),
         policy.evaluate(direction: .import, service: service, island: subject))
    }
}
