import DNSSD
import Policy

/// What the import side asks the gateway to do with its local domain, and what it decided.
public enum ImportEffect: Hashable, Sendable {
    /// Publish this import on the link (its publication).
    case publish(ImportKey, ImportPlanner.Imported)
    /// Same name and type; TXT, port, subtypes or host addresses changed.
    case update(ImportKey, ImportPlanner.Imported)
    /// Withdraw the import that was published.
    case withdraw(ImportKey, ImportPlanner.Imported)
    /// A remote instance is known but not published here, and why (said once per change).
    case held(ImportKey, ImportHold)
    /// Something the relay needs from the daemon (a probe, a relay listener).
    case relay(RelayEffect)
}

/// Why a remote instance this leader received is not published on its link.
public enum ImportHold: Hashable, Sendable {
    /// The import policy keeps it out; the verdict names the rule.
    case denied(Verdict)
    /// Only owners that no longer lead its island hold a value for it: its current leader
    /// does not export it (a withdrawal a killed leader could not make).
    case notFromCurrentLeader
    /// No address this island can use and no relay (`RelayDecision`), or the relay failed.
    case unreachable(String)

    /// The metric label and log key.
    public var reason: String {
        switch self {
        case .denied: "denied_by_policy"
        case .notFromCurrentLeader: "not_from_current_leader"
        case .unreachable: "unreachable"
        }
    }
}
