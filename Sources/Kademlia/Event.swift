import Primitives

/// What happens to a node: a message arrived, its deadline passed, or its owner asked.
public enum Event: Sendable {
    case received(Message, from: Endpoint)
    /// `nextDeadline` has passed (calling it early is harmless).
    case tick
    case command(Command)
}

/// What the owner asks a node to do. Each command that produces an outcome carries a
/// caller-chosen `RequestID` that the matching `Effect.completed` repeats.
public enum Command: Sendable {
    /// Join through nodes known only by address: ping them, then look up our own id.
    case bootstrap(RequestID, [Endpoint])
    /// Find the k closest nodes to a target.
    case lookup(RequestID, NodeID)
    /// Store a record (signed by its owner) on the `storeReplicas` closest nodes to its key. When the
    /// record is this node's own it is also republished until it expires.
    case put(RequestID, Record)
    case get(RequestID, RecordKey)
    /// Be told of new, changed and deleted values under a key until `unsubscribe`.
    case subscribe(RequestID, RecordKey)
    case unsubscribe(RecordKey)
    /// The host's own addresses (its interfaces'): what tells a node that the address other
    /// nodes see it at is not its own, i.e. that it is behind NAT (`DHTNode+NATMappings`).
    case hostAddresses([Endpoint.Address])
}

/// What a node asks its adapter to do.
public enum Effect: Hashable, Sendable {
    case send(Message, to: Endpoint)
    case completed(RequestID, Outcome)
    case notification(SubscriptionNotification)
    /// An inbound message was ignored; for counters and debug logs.
    case dropped(DropReason)
    /// The node's stage changed (logged and counted by the adapter; `Counters` too).
    case stageChanged(Stage)
}

/// Why a node ignored an inbound message. `reason` is the metric label.
public enum DropReason: Hashable, Sendable {
    case wrongNetwork
    /// A response with no matching request (late, duplicated, or forged).
    case unexpectedResponse
    /// A message claiming to come from this node's own id.
    case ownID

    public var reason: String {
        switch self {
        case .wrongNetwork: "wrong_network"
        case .unexpectedResponse: "unexpected_response"
        case .ownID: "own_id"
        }
    }
}
