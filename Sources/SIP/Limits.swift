/// Size limits the parser enforces before it allocates, so a hostile datagram or stream costs
/// a bounded amount of memory and time.
///
/// The defaults fit every RFC 4475 message (the longest, `longreq`, has a 34-value Via list and
/// header lines of about 500 bytes) and a UDP datagram of the path MTU many times over.
public struct SIPLimits: Hashable, Sendable {
    /// Whole message (start line, header fields, blank line and body), in bytes.
    public var maximumMessageBytes: Int
    /// Header fields (after unfolding), counting every repetition.
    public var maximumHeaderFields: Int
    /// One header field after unfolding (name, colon and value), in bytes.
    public var maximumHeaderFieldBytes: Int
    /// Values in one comma-separated list (Via, Contact, ...).
    public var maximumListValues: Int
    /// Request-URI and the other URIs the parser reads, in bytes.
    public var maximumURIBytes: Int
    /// URI parameters (`;name=value`) or header parameters on one URI or header value.
    public var maximumParameters: Int

    public init(
        maximumMessageBytes: Int = 65_535,
        maximumHeaderFields: Int = 128,
        maximumHeaderFieldBytes: Int = 4_096,
        maximumListValues: Int = 64,
        maximumURIBytes: Int = 1_024,
        maximumParameters: Int = 32
    ) {
        self.maximumMessageBytes = maximumMessageBytes
        self.maximumHeaderFields = maximumHeaderFields
        self.maximumHeaderFieldBytes = maximumHeaderFieldBytes
        self.maximumListValues = maximumListValues
        self.maximumURIBytes = maximumURIBytes
        self.maximumParameters = maximumParameters
    }

    public static let `default` = SIPLimits()
}
