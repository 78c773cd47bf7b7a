import Kademlia
import Logging
import NIOCore
import NIOPosix
import Primitives

/// What both sides of a leader's relay are made of: its node identity (the SSH host key
/// and client key), the network key (nil: open mode, accepted only between open sides),
/// the limits, the event loops to run on, and where to log (refusals at debug, with the
/// same reason word as the metric label; tunnels coming and going at info).
public struct RelaySettings: Sendable {
    public var identity: Identity
    public var networkKey: NetworkKey?
    public var limits: RelayLimits
    public var group: any EventLoopGroup
    public var logger: Logger

    public init(identity: Identity, networkKey: NetworkKey?, limits: RelayLimits = RelayLimits(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "z2z.relay")) {
        self.identity = identity
        self.networkKey = networkKey
        self.limits = limits
        self.group = group
        var logger = logger
        logger[metadataKey: "node"] = "\(identity.id)"
        self.logger = logger
    }
}
