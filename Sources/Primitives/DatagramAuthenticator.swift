/// Tags datagrams and checks their tags: admission to a network (`NetworkKey` is the one
/// z2z uses). A protocol so that `WireCodec` builds without a crypto library (the fuzz
/// targets compile the codec's files alone).
public protocol DatagramAuthenticator: Sendable {
    /// Length of a tag, appended to the datagram it authenticates.
    var tagBytes: Int { get }
    /// The tag of `bytes` (everything before the tag).
    func tag(_ bytes: ArraySlice<UInt8>, for purpose: DatagramPurpose) -> [UInt8]
}

/// What a tag authenticates; each purpose has its own key, so a tag of one kind of datagram
/// is never valid on another.
public enum DatagramPurpose: Sendable {
    case frame, heartbeat
}

extension DatagramAuthenticator {
    public func tag(_ bytes: [UInt8], for purpose: DatagramPurpose) -> [UInt8] { tag(bytes[...], for: purpose) }

    /// True when `datagram` ends in the tag of everything before it. Compares in constant
    /// time, so a forger learns nothing from how long a refusal took.
    public func verify(_ datagram: [UInt8], for purpose: DatagramPurpose) -> Bool {
        guard datagram.count >= tagBytes else { return false }
        let split = datagram.count - tagBytes
        let expected = tag(datagram[..<split], for: purpose)
        guard expected.count == tagBytes else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, datagram[split...]) { difference |= a ^ b }
        return difference == 0
    }
}
