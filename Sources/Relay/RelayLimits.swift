import Primitives

/// The bounds a relay keeps, on either side of the tunnel. Every refusal they cause is
/// counted by its `RelayRefusal` reason.
public struct RelayLimits: Hashable, Sendable {
    /// Open streams (TCP connections and UDP flows) one requesting leader may hold on an
    /// exporting leader: an island speaks through its leader, so this bounds an island.
    public var connectionsPerPeer = 4096
    /// Open streams per service instance on an exporting leader.
    public var connectionsPerService = 1024
    /// Open connections and flows per listener on an importing leader.
    public var connectionsPerListener = 1024
    /// A TCP stream with no byte moving either way for this long is closed.
    public var idleTimeout: Interval = .minutes(10)
    /// A UDP flow with no datagram either way for this long is closed (both sides).
    public var flowIdleTimeout: Interval = .seconds(60)
    /// Datagrams held for a UDP flow while its stream is being opened; more are dropped.
    public var flowQueueDatagrams = 32
    /// A refused UDP flow stays refused this long (its datagrams dropped) before a new
    /// datagram from the same client asks again: no request storm from a chatty client.
    public var flowRefusalHold: Interval = .seconds(2)
    /// TCP connect, SSH handshake and authentication of a tunnel must finish within this.
    public var handshakeTimeout: Interval = .seconds(10)
    /// Connecting to a service's LAN endpoint (each endpoint tried in turn).
    public var serviceConnectTimeout: Interval = .seconds(5)
    /// How many of a service's endpoints the exporting leader tries, in the authorizer's order.
    public var serviceEndpointsTried = 4
    /// An importing leader waits this long for a stream's answer; longer than the exporting
    /// side's connect attempts. A tunnel that does not answer in time is taken for dead and
    /// closed, so the next stream dials a new one.
    public var answerTimeout: Interval = .seconds(30)

    /// A reverse tunnel's dialling leader (`RelayExporter.dialOut`) sends TCP keepalives
    /// after this long without traffic, then every third of it, and takes the tunnel for
    /// dead after three go unanswered. Nothing else would tell it: streams come to it only
    /// over the tunnel, and a NAT that dropped its mapping says nothing. The probes also
    /// keep that mapping alive meanwhile.
    public var reverseKeepalive: Interval = .seconds(25)

    /// The SSH maximum packet size each side advertises for its channels. nio-ssh makes a
    /// channel's receive window 64 times this, so it bounds what one stream whose client
    /// stopped reading holds buffered on the receiving leader: 2 MiB at the default (the
    /// smallest RFC 4253 allows), enough for loopback and LAN speeds; raise it for long,
    /// fast paths (window / round trip is one stream's ceiling).
    public var channelPacketBytes = 32 * 1024

    public init() {}
}
