import DNSSD

/// The one place a crossing verdict is given: the policy in force and this island as the
/// rules see it — its id once the election gave it one, and the name other islands know it
/// by. The gateway's export and import decisions, `z2z services`, `z2z explain` and
/// `z2z policy test` all ask a gate, so what the gateway does and what it says it does
/// cannot disagree (an export rule naming this island by id once denied in `explain` and
/// was ignored by the running gateway, which asked with the name alone).
public struct PolicyGate: Hashable, Sendable {
    public var policy: Policy
    /// This island: the subject of every export verdict.
    public var island: PolicyIsland

    public init(policy: Policy = .permitAll, island: PolicyIsland = PolicyIsland()) {
        self.policy = policy
        self.island = island
    }

    /// May a service of `type` on this island's link be exported?
    public func exportVerdict(_ type: ServiceType) -> Verdict {
        policy.evaluate(direction: .export, type: type, island: island)
    }

    /// May a service of `type` from `origin` (another island) be imported onto this link?
    public func importVerdict(_ type: ServiceType, from origin: PolicyIsland) -> Verdict {
        policy.evaluate(direction: .import, type: type, island: origin)
    }

    /// Both directions for an island named by a person (`z2z policy test`): the export
    /// verdict as if `island` were this island, the import verdict for services from it.
    public func verdicts(_ type: ServiceType, island subject: PolicyIsland) -> (export: Verdict, import: Verdict) {
        (policy.evaluate(direction: .export, type: type, island: subject),
         policy.evaluate(direction: .import, type: type, island: subject))
    }
}
