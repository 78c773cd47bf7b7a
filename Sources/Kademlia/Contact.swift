import Primitives

/// A node as others know it: its id and where it listens.
public struct Contact: Hashable, Sendable, CustomStringConvertible {
    public var id: NodeID
    public var endpoint: Endpoint

    public init(id: NodeID, endpoint: Endpoint) {
        self.id = id
        self.endpoint = endpoint
    }

    public var description: String { "\(id)@\(endpoint)" }
}
