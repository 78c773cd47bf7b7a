import Foundation
import Kademlia
import NIOCore
import NIOSSH
import Primitives

/// The node id behind an SSH public key: SHA-256 of the raw Ed25519 key, as for every z2z
/// node; nil for any other kind of key (ECDSA, certificates). nio-ssh keeps the raw key
/// private, so it is read back from the OpenSSH encoding (`ssh-ed25519 <base64>`, whose
/// blob is the RFC 8709 §4 wire form: string "ssh-ed25519", string key).
func relayNodeID(of key: NIOSSHPublicKey) -> NodeID? {
    let text = String(openSSHPublicKey: key)
    let parts = text.split(separator: " ")
    guard parts.count >= 2, parts[0] == "ssh-ed25519", let blob = Data(base64Encoded: String(parts[1])) else { return nil }
    let bytes = Array(blob)
    let name = Array("ssh-ed25519".utf8)
    let expected: [UInt8] = [0, 0, 0, UInt8(name.count)] + name + [0, 0, 0, 32]
    guard bytes.count == expected.count + 32, Array(bytes.prefix(expected.count)) == expected else { return nil }
    return NodeID(publicKey: Array(bytes.suffix(32)))
}

/// Client side: trusts the server's host key only when it is the identity of the leader
/// that was dialled (the key exchange already proved the server holds that key).
final class ExpectedLeaderHostKey: NIOSSHClientServerAuthenticationDelegate {
    private let leader: NodeID
    private let rejected: () -> Void

    init(leader: NodeID, rejected: @escaping () -> Void) {
        self.leader = leader
        self.rejected = rejected
    }

    func validateHostKey(hostKey: NIOSSHPublicKey, validationCompletePromise: EventLoopPromise<Void>) {
        if relayNodeID(of: hostKey) == leader {
            validationCompletePromise.succeed(())
        } else {
            rejected()
            validationCompletePromise.fail(RelayRefusal.wrongHostKey)
        }
    }
}

/// Client side: offers the node's Ed25519 identity once, with the network-key proof as the
/// user name (`RelayCredential`). A second call means the server refused it: give up.
final class RelayClientAuthentication: NIOSSHClientUserAuthenticationDelegate {
    private var offer: NIOSSHUserAuthenticationOffer?

    init(identity: Identity, server: NodeID, key: NetworkKey?) {
        offer = NIOSSHUserAuthenticationOffer(
            username: RelayCredential.userName(client: identity.id, server: server, key: key),
            serviceName: "",
            offer: .privateKey(.init(privateKey: NIOSSHPrivateKey(ed25519Key: identity.privateKey))))
    }

    func nextAuthenticationType(availableMethods: NIOSSHAvailableUserAuthenticationMethods,
                                nextChallengePromise: EventLoopPromise<NIOSSHUserAuthenticationOffer?>) {
        guard availableMethods.contains(.publicKey), let offer else {
            return nextChallengePromise.fail(RelayRefusal.tunnelUnavailable)
        }
        self.offer = nil
        nextChallengePromise.succeed(offer)
    }
}

/// Server side: accepts a client that signed with an Ed25519 key (nio-ssh has checked the
/// signature before asking) and whose user name proves the network key for that key's
/// node id. Remembers who it accepted, for the connection's stream requests.
final class RelayServerAuthentication: NIOSSHServerUserAuthenticationDelegate {
    private let server: NodeID
    private let key: NetworkKey?
    private let refused: (RelayRefusal) -> Void
    private let accepted: (NodeID) -> Void

    init(server: NodeID, key: NetworkKey?, refused: @escaping (RelayRefusal) -> Void, accepted: @escaping (NodeID) -> Void) {
        self.server = server
        self.key = key
        self.refused = refused
        self.accepted = accepted
    }

    var supportedAuthenticationMethods: NIOSSHAvailableUserAuthenticationMethods { .publicKey }

    func requestReceived(request: NIOSSHUserAuthenticationRequest,
                         responsePromise: EventLoopPromise<NIOSSHUserAuthenticationOutcome>) {
        guard case .publicKey(let offer) = request.request, let client = relayNodeID(of: offer.publicKey) else {
            refused(.notAGateway)
            return responsePromise.succeed(.failure)
        }
        if let reason = RelayCredential.check(userName: request.username, client: client, server: server, key: key) {
            refused(reason)
            return responsePromise.succeed(.failure)
        }
        accepted(client)
        responsePromise.succeed(.success)
    }
}
