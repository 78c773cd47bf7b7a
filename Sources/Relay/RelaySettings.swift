import Kademlia
import NIOCore
import NIOPosix
import Primitives

/// What both sides of a leader's relay are made of: its node identity (the SSH host key
/// and client key), the network key (nil: open mode, accepted only between open sides),
/// the limits, and the event loops to run on.
public struct RelaySettings: Sendable {
    public var identity: Identity
    public var networkKey: NetworkKey?
    public var limits: RelayLimits
    public var group: any EventLoopGroup

    public init(identity: Identity, networkKey: NetworkKey?, limits: RelayLimits = RelayLimits(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.identity = identity
        self.networkKey = networkKey
        self.limits = limits
        self.group = group
    }
}
