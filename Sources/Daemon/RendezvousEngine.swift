import DHTRendezvous
import Kademlia
import OpenDHTRendezvous
import Rendezvous

/// A rendezvous engine as z2zd runs it: the `Rendezvous` interface, the engine's serving
/// loop (a child of the gateway service) and the seeds a reload adds.
protocol RendezvousEngine: Rendezvous {
    func run() async
    func addSeeds(_ endpoints: [Endpoint])
}

extension KademliaRendezvous: RendezvousEngine {}
extension OpenDHTRendezvous: RendezvousEngine {}
