import DNSSD
import Island
import Primitives
import LocalDomain
import Policy

/// What the gateway decided or saw, stated once by the machine that decided it
/// (`GatewayMachine.Effect.fact`). Events, metrics and the answers of `z2z services`,
/// `explain` and `status` are built from facts and the machine's read-only view
/// (`GatewayView`), never by working a decision out again from the machine's internals.
public enum GatewayFact: Hashable, Sendable {
    /// A host's service appeared on the link (`new`) or changed.
    case serviceSeen(DiscoveredService, new: Bool)
    /// A host's service left the link.
    case serviceGone(DiscoveredService)
    /// A local service was put under its type key (`new`: first put; else a changed one).
    case exported(ServiceRecord, under: RecordKey, new: Bool)
    /// An exported service was removed from the DHT (a tombstone).
    case exportWithdrawn(ServiceID)
    /// A service on the link is not exported, and why (the verdict, for a denial).
    case exportSkipped(ServiceID, ExportSkip)
    /// Another island's service was published on this link (`new`) or its publication changed.
    case imported(ImportKey, ImportPlanner.Imported, new: Bool)
    /// An import was withdrawn from this link.
    case importWithdrawn(ImportKey, ImportPlanner.Imported)
    /// Another island's service is known and not published here, and why.
    case importHeld(ImportKey, ImportHold)
    /// The island's election changed this gateway's role, leader, term or island.
    case transition(Election.Transition)
    /// The island moved to another stage of its life.
    case stage(Stage)
    /// The connection to the local responder (avahi-daemon) changed.
    case responder(ConnectionState)
    /// Input refused (a bad heartbeat, advert or record): the reason as the metric label
    /// spells it, and what it came from.
    case rejected(reason: String, detail: String)
}
