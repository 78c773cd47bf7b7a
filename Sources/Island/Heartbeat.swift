import Primitives

/// The unicast message gateways of one island send each other every heartbeat interval:
/// who the sender is, what it believes about the island, and whom it follows.
///
/// Every gateway sends one to every other gateway it knows (islands have a handful of
/// gateways, so all-to-all costs little and lets anyone re-elect without extra rounds).
public struct Heartbeat: Hashable, Sendable {
    public var network: NetworkID
    public var sender: NodeID
    public var priority: UInt8
    public var role: Role
    /// The island as the sender knows it; nil for a fresh gateway that has not learnt one.
    public var island: IslandID?
    /// The leader the sender follows (itself when it leads).
    public var leader: NodeID?
    /// The election term of that leader; a claim with a higher term wins.
    public var term: UInt64
    /// The sender's run: when it started, in milliseconds of its wall clock (the daemon sets
    /// it, `Election.Configuration.incarnation`). A restart gives a larger one, so a receiver
    /// tells the sender's current run from an older one without any state of the sender's.
    public var incarnation: UInt64
    /// Counts the sender's heartbeats within its incarnation, from 1. With the incarnation it
    /// orders every heartbeat a sender ever sent: receivers take only ones above the last
    /// they took (`ReplayGuard`), so a captured heartbeat replayed later is refused.
    public var sequence: UInt64
    /// The sender's DHT/transport port (its heartbeat source port is the same socket).
    public var port: UInt16

    public init(network: NetworkID, sender: NodeID, priority: UInt8, role: Role, island: IslandID?,
                leader: NodeID?, term: UInt64, incarnation: UInt64 = 0, sequence: UInt64, port: UInt16) {
        self.network = network
        self.sender = sender
        self.priority = priority
        self.role = role
        self.island = island
        self.leader = leader
        self.term = term
        self.incarnation = incarnation
        self.sequence = sequence
        self.port = port
    }
}
