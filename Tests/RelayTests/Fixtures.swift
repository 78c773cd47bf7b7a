import DNSSD
import Island
import Kademlia
import Logging
import Primitives
@testable import Relay

/// Values the relay tests share: identities from fixed seeds, a network key, services.
enum Fixture {
    static let network = NetworkID(name: "relay-test")
    static let key = NetworkKey(secret: Array("the relay tests' shared secret".utf8), network: network)!
    static let otherKey = NetworkKey(secret: Array("a guess at the shared secret".utf8), network: network)!

    static func identity(_ n: UInt8) -> Identity { try! Identity(seed: [UInt8](repeating: n, count: 32)) }

    static let island = IslandID(rawValue: 0xa1)

    static func service(_ name: String = "Lab Printer", type: String = "_ipp._tcp", island: IslandID = island) -> ServiceRef {
        let type = try! ServiceType(type)
        return ServiceRef(island: island, type: type, name: try! InstanceName(name))
    }

    static func node(_ n: UInt8) -> NodeID { identity(n).id }

    /// Warnings and worse only: tunnels coming and going are routine here.
    static let logger: Logger = {
        var logger = Logger(label: "z2z.relay.test")
        logger.logLevel = .warning
        return logger
    }()

    static func settings(_ identity: Identity, key: NetworkKey?, limits: RelayLimits = RelayLimits()) -> RelaySettings {
        RelaySettings(identity: identity, networkKey: key, limits: limits, logger: logger)
    }
}
