import DNSSD

extension IPPrefix {
    /// Reads a prefix as a policy rule gives it: `10.1.2.0/24`, `fd00:1::/64`, or one address
    /// (`10.1.2.7`, a prefix of all its bits). Host bits must be clear: `10.1.2.7/24` is
    /// refused rather than read as `10.1.2.0/24`, which its writer may not have meant.
    public init(policy text: String) throws(PolicyError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw .prefixInvalid(text, "it has more than one \"/\"") }
        let address: IPAddress
        do { address = try IPAddress(String(parts[0])) } catch {
            throw .prefixInvalid(text, "\"\(parts[0])\" is not an IPv4 or IPv6 address")
        }
        let bits = address.isIPv4 ? 32 : 128
        var length = bits
        if parts.count == 2 {
            guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let given = Int(parts[1]), (0...bits).contains(given) else {
                throw .prefixInvalid(text, "the length after \"/\" is 0 to \(bits) for an IPv\(bits == 32 ? 4 : 6) address")
            }
            length = given
        }
        guard let prefix = IPPrefix(address, length: length) else { throw .prefixInvalid(text, "the length does not fit the address") }
        guard prefix.network == address else {
            throw .prefixInvalid(text, "host bits are set after the first \(length); did you mean \(prefix)?")
        }
        self = prefix
    }
}
