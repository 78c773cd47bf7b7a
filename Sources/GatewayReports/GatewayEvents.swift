import DNSSD
import Gateway
import LocalDomain
import Z2ZAPI

/// The event a fact makes for a person and a script (`GET /api/v1/events`, the dashboard's
/// log, metrics): its kind, subject, the island it is about, the reason as the metric label
/// spells it, and a message. Pure; the one place a fact is worded.
public enum GatewayEvents {
    /// An event before the log gives it a sequence number and a time.
    public struct Draft: Hashable, Sendable {
        public var kind: GatewayEvent.Kind
        public var subject: String?
        public var island: IslandRef?
        public var reason: String?
        public var message: String
    }

    /// The event for `fact`; nil for a fact that is no news: a gateway's own publications
    /// (imports, adverts) not being exported is loop prevention, not news.
    public static func event(for fact: GatewayFact) -> Draft? {
        switch fact {
        case .serviceSeen(let service, _):
            let addresses = service.instance.addresses.map(\.description).joined(separator: " ")
            return Draft(kind: .serviceSeen, subject: subject(service.id),
                         message: "on \(service.instance.host.value):\(service.instance.port) \(addresses)")
        case .serviceGone(let service):
            return Draft(kind: .serviceGone, subject: subject(service.id), reason: "removed", message: "left the link")
        case .exported(let record, let key, let new):
            return Draft(kind: .exported, subject: subject(record.name, record.type), reason: new ? "new" : "changed",
                         message: "under key type/\(record.type) (\(key.description.prefix(16))…), \(record.addresses.count) addresses")
        case .exportWithdrawn(let id):
            return Draft(kind: .exportRemoved, subject: subject(id), message: "removed from the DHT")
        case .exportSkipped(let id, let skip):
            switch skip {
            case .ourOwn, .gatewayPublished, .gatewayAdvert:
                return nil
            case .denied(let verdict):
                return Draft(kind: .exportSkipped, subject: subject(id), reason: skip.reason, message: "not exported: denied by \(verdict)")
            case .noRoutableAddress:
                return Draft(kind: .exportSkipped, subject: subject(id), reason: skip.reason, message: "not exported: no routable address")
            case .notAnswering:
                return Draft(kind: .exportSkipped, subject: subject(id), reason: skip.reason,
                             message: "not exported: its SIP contacts stopped answering OPTIONS; exported again when they answer")
            case .typeFull(let limit):
                return Draft(kind: .exportSkipped, subject: subject(id), reason: skip.reason,
                             message: "not exported: \(limit) services of its type are exported, as many as the DHT holds from one island; exported when one goes")
            }
        case .imported(let key, let imported, let new):
            // A relayed import says so and why; a change also says when it is direct again.
            let route = imported.relayed != nil || !new ? ", " + ImportRoute.words(imported.relayed, leader: imported.relayLeader) : ""
            return Draft(kind: .imported, subject: subject(key.name, key.type), island: island(of: key, imported.record),
                         reason: new ? "new" : "changed",
                         message: "from island \(islandText(key, imported.record)) as \"\(imported.publication.name.value)\"\(route)")
        case .importWithdrawn(let key, let imported):
            return Draft(kind: .importWithdrawn, subject: subject(key.name, key.type), island: island(of: key, imported.record),
                         message: "withdrawn from this link")
        case .importHeld(let key, let hold):
            let message = switch hold {
            case .denied(let verdict): "not imported: denied by \(verdict)"
            case .notFromCurrentLeader: "not imported: only gateways that no longer lead island \(key.island) hold it"
            case .unreachable(let why): "not imported: \(why)"
            }
            return Draft(kind: .importHeld, subject: subject(key.name, key.type), island: IslandRef(id: "\(key.island)"),
                         reason: hold.reason, message: message)
        case .transition(let transition):
            return Draft(kind: .transition, subject: transition.leader.map { "\($0)" }, reason: transition.role.rawValue,
                         message: "\(transition.role.rawValue), leader \(transition.leader.map { "\($0)".prefix(16) } ?? "none"), term \(transition.term)")
        case .stage(let stage):
            return Draft(kind: .stage, reason: stage.rawValue, message: "stage: \(stage)")
        case .responder(let state):
            return Draft(kind: .avahi, reason: connectionReason(state), message: "avahi-daemon: \(state)")
        case .rejected(let reason, let detail):
            return Draft(kind: .rejected, reason: reason, message: detail)
        }
    }

    /// How events name a service instance: `Printer._ipp._tcp`.
    public static func subject(_ id: ServiceID) -> String { subject(id.name, id.type) }
    public static func subject(_ name: InstanceName, _ type: ServiceType) -> String { "\(name.value).\(type)" }

    static func island(of key: ImportKey, _ record: ServiceRecord) -> IslandRef {
        IslandRef(id: "\(key.island)", name: record.islandName.isEmpty ? nil : record.islandName)
    }

    static func islandText(_ key: ImportKey, _ record: ServiceRecord) -> String {
        record.islandName.isEmpty ? "\(key.island)" : record.islandName
    }

    static func connectionReason(_ state: ConnectionState) -> String {
        switch state {
        case .running: "connected"
        case .connecting: "connecting"
        case .unavailable: "unavailable"
        }
    }
}
