import Gateway
import Kademlia
import Primitives
import Rendezvous

/// Each gateway's rendezvous: the engines' own client (`RendezvousClient`) carried out on
/// the gateway's simulated DHT node, as `ClientShell` carries it out on a `DHTPeer` for
/// `KademliaRendezvous` (the driving notes on `RendezvousClient`).
extension GatewayNetwork {
    func newRequest() -> RequestID {
        nextRequest += 1
        return RequestID(nextRequest)
    }

    /// Carries the client's actions out on the gateway's DHT node, as `ClientShell` does on
    /// a `DHTPeer` (the driving notes on `RendezvousClient`).
    func carryOut(_ actions: [RendezvousClient.Action], for index: Int) {
        let node = gateways[index].node
        for action in actions {
            switch action {
            case .store(let write):
                guard gateways[index].rendezvous.isCurrent(write) else { continue }
                let record = write.record(signedBy: gateways[index].identity, ttl: settings.recordTTL)
                simulation.command(node, .put(newRequest(), record))
            case .bootstrap(let seeds), .joinThrough(let seeds):
                let request = newRequest()
                gateways[index].requests[request] = .bootstrap
                simulation.command(node, .bootstrap(request, seeds))
            case .place(let key, let generation):
                let request = newRequest()
                gateways[index].requests[request] = .place(key, generation: generation)
                simulation.command(node, .subscribe(request, key))
            case .cancel(let key):
                simulation.command(node, .unsubscribe(key))
            case .connected:
                break
            }
        }
    }

    /// Runs the client's next round when it is due (`RendezvousClient.nextRound`).
    func scheduleRound(_ index: Int) {
        guard let due = gateways[index].rendezvous.nextRound else { return }
        if let at = gateways[index].roundAt, at <= due, at >= simulation.now { return }
        let at = max(due, simulation.now)
        gateways[index].roundAt = at
        simulation.schedule(at: at) { [unowned self] _ in
            guard self.gateways[index].roundAt == at, self.gateways[index].state == .running else { return }
            self.gateways[index].roundAt = nil
            let peers = self.simulation.contacts(of: self.gateways[index].node)
            self.carryOut(self.gateways[index].rendezvous.round(now: self.simulation.now, peers: peers), for: index)
            self.scheduleRound(index)
        }
    }

    func dhtEffect(_ node: Int, _ effect: Effect) {
        guard let index = gatewayOfNode[node] else { return }
        switch effect {
        case .completed(let request, let outcome):
            if gateways[index].stopRequests.remove(request) != nil {
                if gateways[index].stopRequests.isEmpty { exit(index) }
                return
            }
            guard let asked = gateways[index].requests.removeValue(forKey: request), gateways[index].state == .running else { return }
            switch (asked, outcome) {
            case (.bootstrap, .bootstrapped(let reached, _)):
                carryOut(gateways[index].rendezvous.bootstrapped(reached: reached, now: simulation.now), for: index)
                scheduleRound(index)
            case (.place(let key, let generation), .subscribed(let holders)):
                let held = holders > 0 && simulation.contacts(of: node) > 0
                gateways[index].rendezvous.placed(key, generation: generation, held)
            default:
                break
            }
        case .notification(let notification):
            guard gateways[index].state == .running, gateways[index].rendezvous.subscriptions[notification.key] != nil else { return }
            feed(index, .rendezvous(RendezvousChange(notification)))
        case .stageChanged(let stage):
            // The daemon polls the engine's stage; the node says when it changes.
            feed(index, .overlay(stage))
        default:
            break
        }
    }

    /// A stopping gateway's process exits: its DHT node stops.
    func exit(_ index: Int) {
        guard gateways[index].state == .stopping else { return }
        noteStepDown(index)
        gateways[index].state = .stopped
        simulation.kill(gateways[index].node)
    }
}
