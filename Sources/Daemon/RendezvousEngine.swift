import DHTRendezvous
import Kademlia
import OpenDHTRendezvous
import Primitives
import Rendezvous

/// A rendezvous engine as z2zd runs it: the `Rendezvous` interface, the engine's serving
/// loop (a child of the gateway service), the seeds a reload adds, and the contacts a
/// restart rejoins through (the state directory's routing cache).
protocol RendezvousEngine: Rendezvous {
    func run() async
    func addSeeds(_ endpoints: [Endpoint])
    func contactsToCache() async -> [Contact]
}

extension KademliaRendezvous: RendezvousEngine {
    func contactsToCache() async -> [Contact] { (try? await peer.contacts()) ?? [] }
}

extension OpenDHTRendezvous: RendezvousEngine {
    func contactsToCache() async -> [Contact] { routingCache() }
}
