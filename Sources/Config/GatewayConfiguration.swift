import DNSSD
import Policy

/// Everything z2zd is configured with, validated: the TOML file, then `Z2Z_*` environment
/// variables, then command-line flags, merged into one value by `ConfigurationLoader`.
///
/// `defaults` is a working gateway on the local LAN; `Deploy/z2z.toml` documents every key
/// and parses to exactly these defaults (a test keeps the two in step).
public struct GatewayConfiguration: Hashable, Sendable {
    /// Gateways meet only gateways of the same network name; it is hashed into every DHT key.
    public var network: String
    /// Where the SQLite state database lives (identity, island id, routing cache, records).
    public var stateDirectory: String
    public var logLevel: LogLevel
    public var api: APISettings
    public var island: IslandSettings
    public var dht: DHTSettings
    public var sip: SIPSettings
    public var policy: Policy
    public var security: SecuritySettings
    public var relay: RelaySettings
    /// Router mode (`[[link]]`, `--link`): each interface an island of its own inside this
    /// z2zd. Empty: an ordinary gateway of the one LAN avahi-daemon sees.
    public var links: [LinkSettings]

    public init(network: String, stateDirectory: String, logLevel: LogLevel, api: APISettings,
                island: IslandSettings, dht: DHTSettings, sip: SIPSettings, policy: Policy,
                security: SecuritySettings = SecuritySettings(), relay: RelaySettings = RelaySettings(),
                links: [LinkSettings] = []) {
        self.network = network
        self.stateDirectory = stateDirectory
        self.logLevel = logLevel
        self.api = api
        self.island = island
        self.dht = dht
        self.sip = sip
        self.policy = policy
        self.security = security
        self.relay = relay
        self.links = links
    }

    /// Whether z2zd runs as a router between its links (`links`).
    public var isRouter: Bool { !links.isEmpty }

    public static let defaults = GatewayConfiguration(
        network: "z2z",
        stateDirectory: "/var/lib/z2z",
        logLevel: .info,
        api: APISettings(listen: HostPort(host: .address(.v4(0x7f00_0001)), port: defaultAPIPort)),
        island: IslandSettings(name: nil, priority: 100, heartbeat: .milliseconds(750)),
        dht: DHTSettings(engine: .native, port: defaultDHTPort, bootstrap: [],
                         structureThreshold: defaultStructureThreshold),
        sip: SIPSettings(enabled: true, port: 5060),
        policy: .permitAll
    )

    /// UDP port of the DHT and of island heartbeats.
    public static let defaultDHTPort: UInt16 = 7400
    /// TCP port of the local HTTP API; `z2z` looks here unless told `--api`.
    public static let defaultAPIPort: UInt16 = 7401
    /// The file z2zd reads when no `--config` is given (and runs on defaults if it is absent).
    public static let defaultFilePath = "/etc/z2z/z2z.toml"

    /// How many islands a leader knows before the leaders form a DHT (stage 3) instead of
    /// exchanging records with every other leader directly (stage 2).
    ///
    /// Measured (`z2z-bench islands threshold`, BENCHMARKS.md): direct exchange costs less
    /// per put, get and subscription notification than the DHT up to 64 leaders, but its idle
    /// traffic overtakes the DHT's at about 28–32; 24 stays below that. Kept equal to
    /// `Kademlia.Configuration().structureThreshold`; change it here and in Deploy/z2z.toml together.
    public static let defaultStructureThreshold = 24

    /// Valid but risky settings, one sentence each, for z2zd to log at start and on reload.
    public var warnings: [String] {
        var warnings: [String] = []
        if !api.listen.isLoopback {
            warnings.append("api.listen = \"\(api.listen)\" is reachable from other machines, and the API has no authentication")
        }
        if security.open {
            warnings.append("security.open = true: OPEN MODE, any host that can reach UDP port \(dht.port) can join the overlay, "
                + "store records and take part in island elections; use it only in a lab")
        }
        if dht.engine == .opendht, dht.openDHTPort == nil {
            warnings.append("dht.port = \(dht.port) leaves no room for the OpenDHT engine's port (dht.port + 2): it takes any free port")
        }
        return warnings
    }

    /// The keys whose values differ between `self` and `other`, in TOML dotted form.
    public func changedKeys(from other: GatewayConfiguration) -> [String] {
        var keys: [String] = []
        func check<T: Equatable>(_ key: String, _ path: KeyPath<GatewayConfiguration, T>) {
            if self[keyPath: path] != other[keyPath: path] { keys.append(key) }
        }
        check("network", \.network)
        check("state_dir", \.stateDirectory)
        check("log_level", \.logLevel)
        check("api.listen", \.api.listen)
        check("island.name", \.island.name)
        check("island.priority", \.island.priority)
        check("island.heartbeat", \.island.heartbeat)
        check("dht.engine", \.dht.engine)
        check("dht.port", \.dht.port)
        check("dht.bootstrap", \.dht.bootstrap)
        check("dht.structure_threshold", \.dht.structureThreshold)
        check("dht.subnet_limit", \.dht.subnetLimit)
        check("sip.enabled", \.sip.enabled)
        check("sip.port", \.sip.port)
        check("sip.mode", \.sip.mode)
        check("sip.registrar", \.sip.registrar)
        check("sip.min_expires", \.sip.minimumExpires)
        check("sip.max_expires", \.sip.maximumExpires)
        check("sip.users", \.sip.users)
        check("sip.realm", \.sip.realm)
        check("sip.probe_contacts", \.sip.probeContacts)
        check("policy", \.policy)
        check("security.network_key_file", \.security.networkKeyFile)
        check("security.network_key", \.security.networkKey)
        check("security.open", \.security.open)
        check("relay.mode", \.relay.mode)
        check("relay.port", \.relay.port)
        check("relay.lan_routed", \.relay.lanRouted)
        check("link", \.links)
        return keys
    }

    /// Keys a running daemon cannot change on reload (SIGHUP): they name sockets, files or
    /// the identity of the overlay. A reload that changes them keeps running on the old
    /// values and says that a restart is needed.
    public static let restartKeys: Set<String> = [
        "network", "state_dir", "api.listen", "dht.engine", "dht.port", "sip.enabled", "sip.port",
        "sip.mode", "sip.registrar", "sip.min_expires", "sip.max_expires", "sip.users", "sip.realm", "sip.probe_contacts",
        "security.network_key_file", "security.network_key", "security.open", "dht.subnet_limit",
        "relay.mode", "relay.port", "relay.lan_routed", "link",
    ]
}

/// The local HTTP API (`/api/v1/...`) that `z2z` talks to.
public struct APISettings: Hashable, Sendable {
    /// Loopback by default: the API has no authentication.
    public var listen: HostPort

    public init(listen: HostPort) { self.listen = listen }
}

/// This gateway as a member of its island.
public struct IslandSettings: Hashable, Sendable {
    /// A name for people (`z2z islands`, policy rules, name-conflict suffixes); nil: the
    /// island is known by its id.
    public var name: String?
    /// Election priority: the live gateway with the highest priority leads (0–255).
    public var priority: UInt8
    /// Interval of the leader's heartbeats on the link. 0.75 s by default: three missed (the
    /// lease, 2.25 s) replace a dead leader within 3 s with room for a loaded machine; at
    /// 1 s the lease alone was the whole 3 s (RELIABILITY.md, leader kill).
    public var heartbeat: Duration

    public init(name: String?, priority: UInt8, heartbeat: Duration) {
        self.name = name
        self.priority = priority
        self.heartbeat = heartbeat
    }
}

/// The overlay of island leaders.
public struct DHTSettings: Hashable, Sendable {
    public var engine: DHTEngine
    /// UDP port for the DHT and island heartbeats.
    public var port: UInt16
    /// Seeds: other islands' gateways to meet first. Empty: only islands found on this link.
    public var bootstrap: [HostPort]
    /// See `GatewayConfiguration.defaultStructureThreshold`.
    public var structureThreshold: Int
    /// Routing-table diversity: at most this many contacts of one /24 (IPv4) or /48 (IPv6)
    /// per bucket, against one host claiming many node ids; 0 turns it off (a network whose
    /// gateways all share one /24).
    public var subnetLimit: Int

    public init(engine: DHTEngine, port: UInt16, bootstrap: [HostPort], structureThreshold: Int, subnetLimit: Int = 2) {
        self.engine = engine
        self.port = port
        self.bootstrap = bootstrap
        self.structureThreshold = structureThreshold
        self.subnetLimit = subnetLimit
    }

    /// The UDP port of the OpenDHT engine's node: `port` + 2 (7402 by default), since `port`
    /// stays the island heartbeats' socket. Nil when `port` is above 65533.
    public var openDHTPort: UInt16? { Self.openDHTPort(of: port) }

    /// The OpenDHT port of a z2zd whose DHT port is `port` (another gateway's, too).
    public static func openDHTPort(of port: UInt16) -> UInt16? { port <= UInt16.max - 2 ? port + 2 : nil }
}

/// Admission to the network (`Kademlia.NetworkKey`): the secret every gateway of the network
/// shares. Gateways tag every DHT datagram and island heartbeat with keys derived from it
/// and drop what is not tagged with them.
///
/// Which secret: `networkKey` (inline), else the file `networkKeyFile`, else
/// `<state_dir>/network.key`, which z2zd creates with 32 random bytes on its first start
/// (like an ssh host key) and which must then be copied to the network's other gateways.
/// `open` runs without any key (labs only; z2zd logs a warning at every start).
public struct SecuritySettings: Hashable, Sendable {
    /// A file holding the secret (its text, surrounding whitespace trimmed, at least 16 bytes).
    public var networkKeyFile: String?
    /// The secret itself, written in the configuration (prefer a file readable by root only).
    public var networkKey: String?
    /// No admission at all.
    public var open: Bool

    public init(networkKeyFile: String? = nil, networkKey: String? = nil, open: Bool = false) {
        self.networkKeyFile = networkKeyFile
        self.networkKey = networkKey
        self.open = open
    }

    /// The key file z2zd uses (and creates when missing) when no key is configured.
    public static func defaultKeyFile(stateDirectory: String) -> String { stateDirectory + "/network.key" }
}

/// The leaders' relay (issue 14): services whose addresses another island cannot reach
/// (NAT, the same prefix on every LAN, link-local only) cross through a tunnel between the
/// two islands' leaders.
public struct RelaySettings: Hashable, Sendable {
    /// When imports go through the relay; `auto` (the default) relays only what this island
    /// cannot reach, `off` keeps every import on its service's own addresses.
    public var mode: RelayMode
    /// TCP port of this gateway's relay (the tunnel other leaders dial); nil: the DHT port + 3.
    public var port: UInt16?
    /// Whether other islands can route to this island's LAN (told to importers of UDP
    /// services, which cannot be probed).
    public var lanRouted: Bool

    public init(mode: RelayMode = .auto, port: UInt16? = nil, lanRouted: Bool = true) {
        self.mode = mode
        self.port = port
        self.lanRouted = lanRouted
    }

    /// The relay's port for a gateway whose DHT port is `dhtPort`.
    public func port(dhtPort: UInt16) -> UInt16 { port ?? (dhtPort <= UInt16.max - 3 ? dhtPort + 3 : dhtPort - 3) }
}

/// Which DHT implementation carries the rendezvous.
public enum DHTEngine: String, Hashable, Sendable, CaseIterable {
    /// z2z's own Kademlia (the `Kademlia` module).
    case native
    /// OpenDHT through libopendht-c (the `OpenDHTRendezvous` module).
    case opendht
}

/// The SIP redirect service for SIP user agents announced over mDNS.
public struct SIPSettings: Hashable, Sendable {
    public var enabled: Bool
    /// UDP and TCP port of the redirect service.
    public var port: UInt16
    /// What a call to a known AoR gets: `302` (`redirect`) or forwarded (`proxy`).
    public var mode: SIPMode
    /// Phones on this island's link may REGISTER with the gateway.
    public var registrar: Bool
    /// Bounds of a registration's lifetime, seconds (RFC 3261 §10.3: 423 below the minimum).
    public var minimumExpires: Int
    public var maximumExpires: Int
    /// Digest credentials (`[sip.users]`, user = "password"); empty: the link alone admits.
    public var users: [String: String]
    public var realm: String
    /// Contacts handed out are checked with OPTIONS; dead ones get callers a 480.
    public var probeContacts: Bool

    public init(enabled: Bool, port: UInt16, mode: SIPMode = .redirect, registrar: Bool = true,
                minimumExpires: Int = 60, maximumExpires: Int = 3_600, users: [String: String] = [:], realm: String = "z2z",
                probeContacts: Bool = true) {
        self.probeContacts = probeContacts
        self.enabled = enabled
        self.port = port
        self.mode = mode
        self.registrar = registrar
        self.minimumExpires = minimumExpires
        self.maximumExpires = maximumExpires
        self.users = users
        self.realm = realm
    }
}

/// `[sip] mode`: how the SIP service answers for an AoR it knows.
public enum SIPMode: String, Hashable, Sendable, CaseIterable {
    case redirect
    case proxy
}

/// swift-log's levels, by the same names (kept here so the configuration needs no logging library).
public enum LogLevel: String, Hashable, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}
