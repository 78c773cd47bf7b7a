/// One link of a router (router mode, issue 16): an interface that is an island of its own,
/// with what its hosts publish, what was published on it for the other links, and what the
/// policy keeps off it.
public struct LinkInfo: Codable, Hashable, Sendable {
    /// The island name (`staff`).
    public var name: String
    public var interface: String
    /// The link's island id (16 hex digits).
    public var island: String
    /// Services its hosts publish.
    public var local: Int
    /// Services of other links published on it.
    public var imported: Int
    /// Services of other links the policy keeps off it.
    public var held: Int
    public var avahi: AvahiStatus
    /// Whether the other links' services are published on it in process: while its gateway
    /// leads it. False while another gateway leads its island (that leader imports the
    /// router's other links through the DHT). Absent from daemons that predate it.
    public var inExchange: Bool?
    /// Its gateway towards the rest of the network; absent from daemons that predate it.
    public var gateway: LinkGatewayInfo?

    public init(name: String, interface: String, island: String, local: Int, imported: Int, held: Int, avahi: AvahiStatus,
                inExchange: Bool? = nil, gateway: LinkGatewayInfo? = nil) {
        self.name = name
        self.interface = interface
        self.island = island
        self.local = local
        self.imported = imported
        self.held = held
        self.avahi = avahi
        self.inExchange = inExchange
        self.gateway = gateway
    }

    enum CodingKeys: String, CodingKey {
        case name
        case interface
        case island
        case local
        case imported
        case held
        case avahi
        case inExchange = "in_exchange"
        case gateway
    }
}

/// A router's gateway of one link towards the rest of the network (its own election on the
/// link, DHT node, exports and imports), as `z2z status` shows it per link.
public struct LinkGatewayInfo: Codable, Hashable, Sendable {
    /// The link gateway's own node id (64 hex digits).
    public var nodeID: String
    public var role: GatewayRole
    /// The link's island leader (this gateway or another box); absent while there is none.
    public var leaderID: String?
    /// The island as the link's election names it (16 hex digits): the link's own, or the
    /// one of the gateway it followed.
    public var island: String?
    public var stage: Stage
    /// The link's other gateways, and other islands' leaders among its DHT node's contacts.
    public var peerCount: Int
    /// Services of islands beyond the box it published on the link.
    public var imported: Int
    /// The link's services it put into the DHT.
    public var exported: Int
    /// The UDP port of its heartbeats and DHT node.
    public var port: Int

    public init(nodeID: String, role: GatewayRole, leaderID: String?, island: String?, stage: Stage, peerCount: Int,
                imported: Int, exported: Int, port: Int) {
        self.nodeID = nodeID
        self.role = role
        self.leaderID = leaderID
        self.island = island
        self.stage = stage
        self.peerCount = peerCount
        self.imported = imported
        self.exported = exported
        self.port = port
    }

    enum CodingKeys: String, CodingKey {
        case nodeID = "node_id"
        case role
        case leaderID = "leader_id"
        case island
        case stage
        case peerCount = "peer_count"
        case imported
        case exported
        case port
    }
}
