/// The exporting leader's answer to a stream request: the first two bytes it sends on the
/// channel, before any byte of the service. SSH's own channel-open failure carries no
/// reason nio-ssh lets us set, so every well-formed request is opened and answered here:
/// `00 00` accepted, `01 <RelayRefusal code>` refused (the channel closes right after).
public enum StreamReply: Hashable, Sendable {
    case accepted
    case refused(RelayRefusal)

    public static let byteCount = 2

    public var bytes: [UInt8] {
        switch self {
        case .accepted: [0, 0]
        case .refused(let reason): [1, reason.code]
        }
    }

    /// Reads a reply from its two bytes; an unknown kind or refusal code (a newer or broken
    /// peer) reads as a `protocolError` refusal.
    public init(bytes: (UInt8, UInt8)) {
        switch bytes {
        case (0, 0): self = .accepted
        case (1, let code): self = .refused(RelayRefusal(code: code) ?? .protocolError)
        default: self = .refused(.protocolError)
        }
    }
}
