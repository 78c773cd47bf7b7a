import Gateway
import Primitives
import Z2ZAPI

/// How an import reaches its service, said once: `services`, `explain` and the events all
/// word it here, from what the import planner recorded (`ImportPlanner.Imported.relayed`,
/// `relayLeader`, `ImportHold.unreachable`), so they cannot say it differently.
extension ImportRoute {
    /// `direct`, or `relayed via leader 3fa2c1d0: LAN not routed`.
    public static func words(_ relayed: RelayReason?, leader: NodeID?) -> String {
        guard let relayed else { return "direct" }
        let via = leader.map { "leader \(String("\($0)".prefix(8)))" } ?? "its island's leader"
        return "relayed via \(via): \(relayed.words)"
    }

    /// `unreachable: no routable address, and the relay is off`.
    public static func words(unreachable why: String) -> String { "unreachable: \(why)" }

    /// The route of an import published on this link.
    public init(_ imported: ImportPlanner.Imported) {
        let summary = Self.words(imported.relayed, leader: imported.relayLeader)
        if let reason = imported.relayed {
            self.init(path: .relayed, reason: reason.rawValue, relayLeader: imported.relayLeader.map { "\($0)" }, summary: summary)
        } else {
            self.init(path: .direct, summary: summary)
        }
    }

    /// The route of an import held back as unreachable; nil for any other hold (the policy's
    /// or a stale leader's: the service may be reachable, it is just not taken).
    public init?(held hold: ImportHold) {
        guard case .unreachable(let why) = hold else { return nil }
        self.init(path: .unreachable, summary: Self.words(unreachable: why))
    }

    /// A local service not exported: its type is full (`ExportSkip.typeFull`).
    public init(cappedAt limit: Int) {
        self.init(path: .capped, reason: "type_full",
                  summary: "not exported: \(limit) of its type are, the most the DHT holds from one island")
    }

    /// The route of an import avahi-daemon refused: nothing on this link reaches it yet.
    public init(refused: ImportRefusal) {
        self.init(path: .refused, reason: "avahi_refused", summary: refused.summary)
    }
}

extension RelayReason {
    /// Every reason, for metrics that are present at 0 from the start.
    static let all: [RelayReason] = [.always, .linkLocalOnly, .overlappingPrefixes, .unreachable, .lanNotRouted]

    /// Why an import is relayed, in words: `LAN not routed`.
    public var words: String {
        switch self {
        case .always: "the relay mode is always"
        case .linkLocalOnly: "link-local addresses only"
        case .overlappingPrefixes: "its addresses overlap this island's LAN prefixes"
        case .unreachable: "no direct connection (a TCP connect failed)"
        case .lanNotRouted: "LAN not routed"
        }
    }
}
