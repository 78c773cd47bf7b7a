import Primitives

/// Leader election among the gateways of one link, as a pure state machine.
///
/// Inputs are mDNS sightings of other gateways (`_z2z._udp` adverts), heartbeats received
/// over unicast, and ticks; outputs are heartbeats to send and changes of role, leader and
/// island. Time comes in as `now`; nothing here reads a clock or touches a socket.
///
/// Rules:
/// - Every gateway heartbeats every other gateway it knows, every `heartbeatInterval`, and
///   at once whenever its own view changes. A peer is *live* while its last heartbeat is
///   younger than `missLimit` intervals.
/// - A gateway that starts (or restarts) listens for `listenWindow` before it contests, so
///   it learns a current leader instead of challenging it.
/// - Incumbency: while a live leader exists, everyone follows it — a gateway of higher
///   priority joining later does not take over, so the role does not flap.
/// - When two live gateways both claim leadership (after a partition heals, or a
///   simultaneous election), the claim with the higher (term, priority, id) wins and the
///   other steps down at once.
/// - With no live leader, the live gateway with the highest (priority, id) claims, with a
///   term above every term it has seen; the others wait for its claim. So a leader that
///   stops is replaced `missLimit` intervals after its last heartbeat, in one step — never
///   before its lease (those `missLimit` intervals) has run out.
/// - The island id is the leader's; followers adopt it, and a new leader keeps the one it
///   followed. Only a gateway that never learnt one draws a new id.
///
/// Deviation worth knowing: there is no quorum. A link cut in two gives two islands with
/// two leaders (each side is a working island); when the halves meet again the claim rule
/// above leaves one.
public struct Election: Sendable {
    public struct Configuration: Sendable {
        public var heartbeatInterval: Interval = .seconds(1)
        /// Heartbeats a leader may miss before it is replaced.
        public var missLimit = 3
        /// How long a starting gateway listens before it may claim leadership.
        public var listenWindow: Interval = .seconds(3)
        /// A claim's term is above this. The daemon sets it to the wall clock in seconds at
        /// start, so a gateway that takes over with nobody left to tell it the last term (its
        /// island's gateways all died, it restarted first) still claims a term above its dead
        /// predecessor's: importers follow the island's entry with the highest term
        /// (`IslandDirectoryEntry`). A successor that heard its predecessor claims above the
        /// predecessor's term anyway, so clocks need not agree.
        public var termFloor: UInt64 = 0
        /// This run's incarnation, on every heartbeat (`Heartbeat.incarnation`). The daemon
        /// sets it to the wall clock in milliseconds at start, so a restart gives a larger
        /// one and receivers refuse replays of the previous run's heartbeats (`ReplayGuard`).
        /// A gateway whose clock went back across a restart is refused by peers that still
        /// remember its earlier run, until they forget it (a restart of theirs).
        public var incarnation: UInt64 = 0

        public init() {}

        var lease: Interval { heartbeatInterval * Double(missLimit) }
    }

    /// What the election knows about another gateway on the link.
    public struct Peer: Hashable, Sendable {
        public var id: NodeID
        public var endpoint: Endpoint
        public var priority: UInt8
        public var lastHeard: Instant?
        public var role: Role = .candidate
        public var island: IslandID?
        public var leader: NodeID?
        public var term: UInt64 = 0
        /// Heard through mDNS (kept until the advert goes away).
        public var advertised = false
        /// Beats since this peer was advertised without it ever answering (see `broadcast`).
        var unansweredBeats = 0
        /// Live at the last decision; a lease running out turns it off.
        var countedLive = false
    }

    public enum Input: Sendable {
        /// A `_z2z._udp` advert of another gateway of this network appeared or changed.
        case advertised(NodeID, Endpoint, priority: UInt8)
        /// That advert went away (the gateway stays until its heartbeats stop too).
        case withdrawn(NodeID)
        case heartbeat(Heartbeat, from: Endpoint)
        /// `nextDeadline` passed.
        case tick
    }

    public enum Output: Hashable, Sendable {
        case send(Heartbeat, to: Endpoint)
        /// Role, leader, term or island changed (the new values are on the election).
        case changed(Transition)
    }

    /// A change of this gateway's view, for logs, counters and the status API.
    public struct Transition: Hashable, Sendable {
        public var role: Role
        public var leader: NodeID?
        public var term: UInt64
        public var island: IslandID?
        public var at: Instant
    }

    public let id: NodeID
    public let network: NetworkID
    public let priority: UInt8
    public let port: UInt16
    public let configuration: Configuration
    public private(set) var role: Role = .candidate
    public private(set) var leader: NodeID?
    public private(set) var term: UInt64 = 0
    public private(set) var island: IslandID?
    public private(set) var peers: [NodeID: Peer] = [:]
    /// Transitions so far (role changes), for counters.
    public private(set) var transitions = 0

    private var started: Instant?
    /// The end of the listen window while it lies ahead.
    private var listenUntil: Instant?
    private var nextHeartbeat: Instant?
    private var sequence: UInt64 = 0
    private var rng: Xoshiro256

    /// `island` is the id remembered from an earlier run, if any.
    public init(id: NodeID, network: NetworkID, priority: UInt8, port: UInt16, island: IslandID?,
                configuration: Configuration = Configuration(), seed: UInt64) {
        self.id = id
        self.network = network
        self.priority = priority
        self.port = port
        self.island = island
        self.configuration = configuration
        self.rng = Xoshiro256(seed: seed)
    }

    /// Live peers: heard within the lease.
    public func livePeers(at now: Instant) -> [Peer] {
        peers.values.filter { isLive($0, now) }.sorted { $0.id < $1.id }
    }

    /// The next moment something is due: a heartbeat, the end of the listen window, or the
    /// lease of a peer still counted live (so a dead leader is noticed to the millisecond).
    public var nextDeadline: Instant? {
        let expiries = peers.values.filter(\.countedLive).compactMap { $0.lastHeard.map { $0 + configuration.lease } }
        return ([nextHeartbeat, listenUntil].compactMap { $0 } + expiries).min()
    }

    public mutating func handle(_ input: Input, now: Instant) -> [Output] {
        if started == nil {
            started = now
            listenUntil = now + configuration.listenWindow
            nextHeartbeat = now
        }
        switch input {
        case .advertised(let peerID, let endpoint, let priority):
            guard peerID != id else { return decide(now: now) }
            var peer = peers[peerID] ?? Peer(id: peerID, endpoint: endpoint, priority: priority)
            let isNew = !peer.advertised && peer.lastHeard == nil
            peer.endpoint = endpoint
            peer.priority = priority
            peer.advertised = true
            peers[peerID] = peer
            // Greet a newcomer at once so it hears about the island within its listen window.
            let greeting: [Output] = isNew ? [.send(heartbeat(), to: endpoint)] : []
            return greeting + decide(now: now)
        case .withdrawn(let peerID):
            peers[peerID]?.advertised = false
            if let peer = peers[peerID], !isLive(peer, now) { peers[peerID] = nil }
            return decide(now: now)
        case .heartbeat(let beat, let endpoint):
            guard beat.network == network, beat.sender != id else { return [] }
            var peer = peers[beat.sender] ?? Peer(id: beat.sender, endpoint: endpoint, priority: beat.priority)
            let wasLive = isLive(peer, now)
            peer.endpoint = Endpoint(address: endpoint.address, port: beat.port)
            peer.priority = beat.priority
            peer.lastHeard = now
            peer.role = beat.role
            peer.island = beat.island
            peer.leader = beat.leader
            peer.term = beat.term
            peers[beat.sender] = peer
            var outputs = decide(now: now)
            // A peer we had given up on (or never heard): answer so it hears us too.
            if !wasLive, !outputs.contains(where: { if case .send(_, let to) = $0 { to == peer.endpoint } else { false } }) {
                outputs.append(.send(heartbeat(), to: peer.endpoint))
            }
            return outputs
        case .tick:
            var outputs = decide(now: now)
            if let due = nextHeartbeat, now >= due {
                outputs += broadcast()
                nextHeartbeat = now + configuration.heartbeatInterval.jittered(0.1, using: &rng)
            }
            forgetSilentPeers(now: now)
            return outputs
        }
    }

    // MARK: deciding

    private func isLive(_ peer: Peer, _ now: Instant) -> Bool {
        guard let heard = peer.lastHeard else { return false }
        return now < heard + configuration.lease
    }

    private mutating func decide(now: Instant) -> [Output] {
        for peerID in Array(peers.keys) {
            guard let peer = peers[peerID] else { continue }
            let live = isLive(peer, now)
            peers[peerID]?.countedLive = live
        }
        if let end = listenUntil, now >= end { listenUntil = nil }
        let live = livePeers(at: now)
        let before = (role, leader, term, island)

        // 1. Live claims, ours included: the best one leads.
        var claims = live.filter { $0.role == .leader }.map { (id: $0.id, term: $0.term, priority: $0.priority, island: $0.island) }
        if role == .leader { claims.append((id, term, priority, island)) }
        if let winner = claims.max(by: { ($0.term, $0.priority, $0.id) < ($1.term, $1.priority, $1.id) }) {
            if winner.id == id {
                role = .leader
                leader = id
            } else {
                role = .follower
                leader = winner.id
                term = winner.term
                if let theirs = winner.island { island = theirs }
            }
        } else {
            // 2. Nobody leads. A follower's leader is gone; a starting gateway keeps listening.
            if role == .follower { role = .candidate }
            leader = nil
            let inListenWindow = listenUntil != nil
            let best = live.map { ($0.priority, $0.id) }.max { $0 < $1 }
            if !inListenWindow, best.map({ $0 < (priority, id) }) ?? true {
                role = .leader
                leader = id
                term = max(term, configuration.termFloor, live.map(\.term).max() ?? 0) + 1
                if island == nil {
                    island = live.compactMap(\.island).min() ?? IslandID.random(using: &rng)
                }
            }
        }

        guard (role, leader, term, island) != before else { return [] }
        if role != before.0 { transitions += 1 }
        let transition = Transition(role: role, leader: leader, term: term, island: island, at: now)
        // Tell everyone at once rather than at the next beat.
        nextHeartbeat = now + configuration.heartbeatInterval.jittered(0.1, using: &rng)
        return [.changed(transition)] + broadcast()
    }

    /// A heartbeat to every peer, except that one only advertised and never heard gets it at
    /// beats 1, 2, 4, 8 … (at least every 64th): an advert carries no tag, so anyone on the
    /// link can name an address in one, and until a tagged heartbeat comes back from there
    /// the address receives a few datagrams, not one per beat (issue 18, point 6: a forged
    /// advert drew 33 datagrams in 20 s). A real gateway answers the first one it receives.
    private mutating func broadcast() -> [Output] {
        let beat = heartbeat()
        var outputs: [Output] = []
        for peerID in peers.keys.sorted() {
            guard var peer = peers[peerID] else { continue }
            if peer.lastHeard == nil {
                peer.unansweredBeats += 1
                peers[peerID] = peer
                let beats = peer.unansweredBeats
                guard beats & (beats - 1) == 0 || beats % Self.unansweredBeatsCap == 0 else { continue }
            }
            outputs.append(.send(beat, to: peer.endpoint))
        }
        return outputs
    }

    /// An advertised peer that never answered still gets every this many beats.
    static let unansweredBeatsCap = 64

    private mutating func heartbeat() -> Heartbeat {
        sequence &+= 1
        return Heartbeat(network: network, sender: id, priority: priority, role: role, island: island,
                         leader: leader, term: term, incarnation: configuration.incarnation, sequence: sequence, port: port)
    }

    /// Peers neither advertised nor heard for a long while are forgotten (no heartbeats to them).
    private mutating func forgetSilentPeers(now: Instant) {
        let horizon = configuration.lease * 10
        for (peerID, peer) in peers where !peer.advertised {
            guard let heard = peer.lastHeard else { peers[peerID] = nil; continue }
            if now.since(heard) > horizon { peers[peerID] = nil }
        }
    }
}
