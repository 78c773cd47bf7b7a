import Crypto
import Primitives

/// The proof of network membership a relay client puts in its SSH user name.
///
/// SSH public-key authentication proves which node the client is (its Ed25519 identity
/// signs the session, user name included, RFC 4252 §7); the user name proves the node
/// holds the network key: `z2z-relay-1:` followed by the hex of
/// `NetworkKey.tag("z2z relay v1" ‖ client id ‖ server id)`, an HMAC-SHA256 under the
/// network's frame key truncated to 16 bytes. Binding both ids keeps a proof from serving
/// another pair, and since the user name is signed with the session id, a proof seen by
/// someone else is useless without the client's private key. No DHT frame starts with
/// these bytes, so no tag a gateway ever made for a frame doubles as a relay proof.
///
/// Open mode: without a network key the user name is `z2z-relay-1:open`, accepted only by
/// a server that is open too; a keyed server refuses it and an open server refuses a proof
/// (`badNetworkKey` both ways), so a misconfigured pair fails loudly instead of half-open.
public enum RelayCredential {
    public static let prefix = "z2z-relay-1:"
    public static let openUserName = prefix + "open"

    /// The user name a client presents to `server`.
    public static func userName(client: NodeID, server: NodeID, key: NetworkKey?) -> String {
        guard let key else { return openUserName }
        return prefix + Hex.encode(tag(client: client, server: server, key: key))
    }

    /// Checks a user name presented by `client` (the id of the key it authenticated with)
    /// to this `server`: nil when accepted, else the reason.
    public static func check(userName: String, client: NodeID, server: NodeID, key: NetworkKey?) -> RelayRefusal? {
        guard userName.hasPrefix(prefix) else { return .notAGateway }
        guard let key else { return userName == openUserName ? nil : .badNetworkKey }
        let presented = Hex.decode(userName.utf8.dropFirst(prefix.utf8.count))
        let expected = tag(client: client, server: server, key: key)
        guard let presented, presented.count == expected.count else { return .badNetworkKey }
        // Constant time: a forger learns nothing from how long a refusal took.
        var difference: UInt8 = 0
        for (a, b) in zip(presented, expected) { difference |= a ^ b }
        return difference == 0 ? nil : .badNetworkKey
    }

    static func tag(client: NodeID, server: NodeID, key: NetworkKey) -> [UInt8] {
        key.tag(Array("z2z relay v1".utf8) + client.bytes + server.bytes, for: .frame)
    }
}
