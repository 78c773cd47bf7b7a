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

    public init(name: String, interface: String, island: String, local: Int, imported: Int, held: Int, avahi: AvahiStatus) {
        self.name = name
        self.interface = interface
        self.island = island
        self.local = local
        self.imported = imported
        self.held = held
        self.avahi = avahi
    }

    enum CodingKeys: String, CodingKey {
        case name
        case interface
        case island
        case local
        case imported
        case held
        case avahi
    }
}
