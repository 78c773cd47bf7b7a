/// Checks that the contacts the gateway hands out (in a 302, or forwards to), the phones
/// registered with it and, on a leader, the UAs its own link announces (`LocalUAChecks`, which
/// withdraws dead ones from export) still answer, with SIP OPTIONS (RFC 3261 §11), as a pure value.
///
/// A tracked contact is probed `firstInterval` after it was first handed out; while it
/// answers, the interval doubles up to `maximumInterval` (backing off). A probe without any
/// answer after `answerTimeout` is a miss; misses are retried every `retryInterval`, and
/// `missesUntilDead` of them in a row make the contact dead: it is no longer handed out
/// (callers get `480`), registered bindings on it are removed, and it is probed only every
/// `deadInterval` until it answers again. Any response counts as an answer (a `404` or `405`
/// still proves a live SIP stack). A contact not handed out for `idleExpiry` is forgotten;
/// at most `capacity` are tracked (the least recently used goes first).
///
/// With the defaults an unplugged phone is dead at most 5 + 2 + (1 + 2)·2 = 13 s after its
/// last answer. Deviations: probes go over UDP only, to the contact's address and port; a
/// contact named by a host name is not probed (and so never declared dead).
public struct ContactProber: Sendable {
    public struct Configuration: Hashable, Sendable {
        public var firstInterval: Duration
        public var maximumInterval: Duration
        public var answerTimeout: Duration
        public var retryInterval: Duration
        public var missesUntilDead: Int
        public var deadInterval: Duration
        public var idleExpiry: Duration
        public var capacity: Int

        public init(
            firstInterval: Duration = .seconds(2), maximumInterval: Duration = .seconds(5), answerTimeout: Duration = .seconds(2),
            retryInterval: Duration = .seconds(1), missesUntilDead: Int = 3, deadInterval: Duration = .seconds(15),
            idleExpiry: Duration = .seconds(600), capacity: Int = 1_024
        ) {
            self.firstInterval = firstInterval
            self.maximumInterval = maximumInterval
            self.answerTimeout = answerTimeout
            self.retryInterval = retryInterval
            self.missesUntilDead = missesUntilDead
            self.deadInterval = deadInterval
            self.idleExpiry = idleExpiry
            self.capacity = capacity
        }
    }

    public enum Health: String, Hashable, Sendable {
        /// Not probed yet, or no answer so far but not dead either.
        case unknown
        case alive
        case dead
    }

    /// One tracked contact, as `z2z sip` shows it.
    public struct Entry: Hashable, Sendable {
        public var uri: SIPURI
        public var health: Health
        public var misses: Int
        public var interval: Duration
        public var nextProbe: ContinuousClock.Instant
        public var lastAnswer: ContinuousClock.Instant?
        public var lastUsed: ContinuousClock.Instant
        var outstanding: (branch: String, sent: ContinuousClock.Instant)?

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.uri == rhs.uri && lhs.health == rhs.health && lhs.misses == rhs.misses && lhs.nextProbe == rhs.nextProbe
                && lhs.lastAnswer == rhs.lastAnswer && lhs.lastUsed == rhs.lastUsed && lhs.outstanding?.branch == rhs.outstanding?.branch
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(uri)
            hasher.combine(health)
        }
    }

    /// What one tick decided: probes to send, contacts that died or came back.
    public struct Tick: Hashable, Sendable {
        public var probes: [SIPOutbound] = []
        public var died: [SIPHop] = []
        public var revived: [SIPHop] = []
    }

    /// Every probe's branch starts with this (and so with `StatelessProxy.branchPrefix`).
    public static let branchPrefix = StatelessProxy.branchPrefix + "p"

    public let configuration: Configuration
    public private(set) var entries: [SIPHop: Entry] = [:]
    private var branches: [String: SIPHop] = [:]
    private var sent: UInt64 = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public func health(of hop: SIPHop) -> Health { entries[hop]?.health ?? .unknown }

    /// The contact was handed out (or registered) now: probe it from now on.
    public mutating func track(_ uri: SIPURI, now: ContinuousClock.Instant) {
        let hop = SIPHop(uri)
        // Probes go to IP addresses only (no resolver here): a named contact is never judged.
        if case .name = hop.host { return }
        if entries[hop] != nil {
            entries[hop]?.lastUsed = now
            return
        }
        if entries.count >= configuration.capacity, let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            forget(oldest)
        }
        entries[hop] = Entry(uri: uri, health: .unknown, misses: 0, interval: configuration.firstInterval,
                             nextProbe: now + configuration.firstInterval, lastAnswer: nil, lastUsed: now)
    }

    /// A response to a probe arrived: the contact is alive. Returns its hop when it was dead.
    @discardableResult
    public mutating func answered(branch: String, now: ContinuousClock.Instant) -> SIPHop? {
        guard let hop = branches.removeValue(forKey: branch), var entry = entries[hop] else { return nil }
        let wasDead = entry.health == .dead
        entry.health = .alive
        entry.misses = 0
        entry.lastAnswer = now
        entry.outstanding = nil
        entry.interval = wasDead ? configuration.firstInterval : min(entry.interval * 2, configuration.maximumInterval)
        entry.nextProbe = now + entry.interval
        entries[hop] = entry
        return wasDead ? hop : nil
    }

    /// Times out unanswered probes, forgets idle contacts, and sends the probes that are due.
    public mutating func tick(now: ContinuousClock.Instant, identity: SIPNodeIdentity) -> Tick {
        var tick = Tick()
        for hop in entries.keys.sorted(by: { $0.description < $1.description }) {
            guard var entry = entries[hop] else { continue }
            if now - entry.lastUsed >= configuration.idleExpiry {
                forget(hop)
                continue
            }
            if let outstanding = entry.outstanding, now - outstanding.sent >= configuration.answerTimeout {
                branches[outstanding.branch] = nil
                entry.outstanding = nil
                entry.misses += 1
                if entry.health != .dead, entry.misses >= configuration.missesUntilDead {
                    entry.health = .dead
                    tick.died.append(hop)
                }
                entry.nextProbe = now + (entry.health == .dead ? configuration.deadInterval : configuration.retryInterval)
            }
            if entry.outstanding == nil, now >= entry.nextProbe, let probe = probe(entry.uri, hop: hop, identity: identity) {
                entry.outstanding = (probe.branch, now)
                branches[probe.branch] = hop
                tick.probes.append(probe.outbound)
            }
            entries[hop] = entry
        }
        return tick
    }

    private mutating func forget(_ hop: SIPHop) {
        if let branch = entries[hop]?.outstanding?.branch { branches[branch] = nil }
        entries[hop] = nil
    }

    /// An OPTIONS to the contact, from the gateway, on a branch of its own.
    private mutating func probe(_ uri: SIPURI, hop: SIPHop, identity: SIPNodeIdentity) -> (outbound: SIPOutbound, branch: String)? {
        guard let host = identity.viaHost(toward: hop.host) else { return nil }
        sent += 1
        let id = String(sent, radix: 16)
        let branch = Self.branchPrefix + id
        var target = uri
        target.headers = []
        let lines = [
            "OPTIONS \(target) SIP/2.0",
            "Via: SIP/2.0/UDP \(host):\(identity.port);branch=\(branch);rport",
            "Max-Forwards: 70",
            "To: <\(target)>",
            "From: <sip:z2z@\(host)>;tag=\(id)",
            "Call-ID: \(branch)@z2z",
            "CSeq: 1 OPTIONS",
            "Accept: application/sdp",
            "Content-Length: 0",
        ]
        let bytes = Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
        return (SIPOutbound(bytes: bytes, hop: hop), branch)
    }
}
