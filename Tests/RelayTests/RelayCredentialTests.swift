import Crypto
import NIOSSH
import Primitives
import Testing
@testable import Relay

/// The user name that proves the network key, and reading node ids from SSH keys.
struct RelayCredentialTests {
    let client = Fixture.node(1), server = Fixture.node(2)

    @Test func aProofForThisPairUnderTheNetworkKeyIsAccepted() {
        let name = RelayCredential.userName(client: client, server: server, key: Fixture.key)
        #expect(name.hasPrefix("z2z-relay-1:") && name.utf8.count == "z2z-relay-1:".utf8.count + 32)
        #expect(RelayCredential.check(userName: name, client: client, server: server, key: Fixture.key) == nil)
    }

    @Test func aProofUnderAnotherKeyOrForAnotherPairIsABadNetworkKey() {
        let stranger = RelayCredential.userName(client: client, server: server, key: Fixture.otherKey)
        #expect(RelayCredential.check(userName: stranger, client: client, server: server, key: Fixture.key) == .badNetworkKey)
        let borrowed = RelayCredential.userName(client: Fixture.node(3), server: server, key: Fixture.key)
        #expect(RelayCredential.check(userName: borrowed, client: client, server: server, key: Fixture.key) == .badNetworkKey)
        let elsewhere = RelayCredential.userName(client: client, server: Fixture.node(3), key: Fixture.key)
        #expect(RelayCredential.check(userName: elsewhere, client: client, server: server, key: Fixture.key) == .badNetworkKey)
        #expect(RelayCredential.check(userName: "z2z-relay-1:zz", client: client, server: server, key: Fixture.key) == .badNetworkKey)
    }

    @Test func openModeOnlyBetweenTwoOpenSides() {
        let open = RelayCredential.userName(client: client, server: server, key: nil)
        #expect(open == RelayCredential.openUserName)
        #expect(RelayCredential.check(userName: open, client: client, server: server, key: nil) == nil)
        #expect(RelayCredential.check(userName: open, client: client, server: server, key: Fixture.key) == .badNetworkKey)
        let keyed = RelayCredential.userName(client: client, server: server, key: Fixture.key)
        #expect(RelayCredential.check(userName: keyed, client: client, server: server, key: nil) == .badNetworkKey)
    }

    @Test func aUserNameThatIsNoCredentialIsNotAGateway() {
        #expect(RelayCredential.check(userName: "root", client: client, server: server, key: Fixture.key) == .notAGateway)
        #expect(RelayCredential.check(userName: "", client: client, server: server, key: nil) == .notAGateway)
    }

    @Test func anEd25519SSHKeyYieldsTheNodeIDOfItsIdentity() {
        let identity = Fixture.identity(9)
        let key = NIOSSHPrivateKey(ed25519Key: identity.privateKey).publicKey
        #expect(relayNodeID(of: key) == identity.id)
    }

    @Test func otherKindsOfKeyHaveNoNodeID() {
        #expect(relayNodeID(of: NIOSSHPrivateKey(p256Key: P256.Signing.PrivateKey()).publicKey) == nil)
    }
}
