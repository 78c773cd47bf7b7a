import Gateway
import Kademlia
import Primitives
import Relay
import Rendezvous

/// Leaders behind NAT: an importing leader that cannot dial an exporting leader's relay asks
/// it through the DHT to dial in (`RelayDialRequest` under `relay-dial/<leader>`), and opens
/// the import's listener once that reverse tunnel — or a circuit relay both reached — is up;
/// and this leader dials out to the relays other leaders ask it to.
extension GatewayRelay {
    /// Asks `leader` through the DHT to dial this leader's relay (where `offer` says).
    func askToDialIn(_ leader: NodeID, offer: RelayOffer?) async {
        guard let offer, !offer.endpoints.isEmpty else {
            logger.warning("cannot ask a leader to dial in: this leader's relay does not listen", metadata: ["leader": "\(leader)"])
            return
        }
        let request = RelayDialRequest(target: node, endpoints: offer.endpoints)
        do {
            try await rendezvous.put(key: RecordKeys.relayDial(leader, network: network), valueID: RelayDialRequest.valueID(of: node),
                                     payload: request.encoded)
        } catch {
            logger.warning("could not ask a leader to dial in", metadata: ["leader": "\(leader)", "reason": "\(error)"])
        }
    }

    /// Makes sure this leader has a circuit relay to offer besides `exporter`: when no import
    /// took it to another leader's relay yet (the one reachable island may export nothing),
    /// it dials the relays other leaders name in the directory — a few, all at once — and
    /// keeps those that answer (`reached`). True when it reached one just now.
    @discardableResult
    func reachCircuitRelays(besides exporter: NodeID, from network: RelayNetwork) async -> Bool {
        guard !hasCircuitRelay(besides: exporter) else { return false }
        let candidates = grants.circuits.withLock { $0 }.circuitCandidates(excluding: [exporter, node], limit: Self.circuitCandidates)
        guard !candidates.isEmpty else {
            logger.info("no other leader's relay to try as a circuit relay", metadata: ["leader": "\(exporter)"])
            return false
        }
        return await withTaskGroup(of: (NodeID, Endpoint?).self) { group in
            for candidate in candidates {
                group.addTask { (candidate.leader, await self.dialable(candidate.endpoints, from: network)) }
            }
            var any = false
            for await case (let leader, let endpoint?) in group {
                reached.withLock { $0[leader] = endpoint }
                logger.info("circuit relay reached", metadata: ["leader": "\(leader)", "at": "\(endpoint)"])
                any = true
            }
            return any
        }
    }

    /// Whether this leader reached another leader's relay than `exporter`'s: a circuit relay
    /// it can ask `exporter` to dial.
    func hasCircuitRelay(besides exporter: NodeID) -> Bool {
        reached.withLock { $0.keys.contains { $0 != exporter && $0 != node } }
    }

    /// Asks `leader` to dial the relays this leader reached (besides its own): circuit
    /// relays for when neither of the two can be dialled.
    func askToDialCircuitRelays(_ leader: NodeID) async {
        let relays = reached.withLock { $0 }.filter { $0.key != leader && $0.key != node }
        for (relay, endpoint) in relays.sorted(by: { $0.key < $1.key }).prefix(2) {
            do {
                try await rendezvous.put(key: RecordKeys.relayDial(leader, network: network), valueID: RelayDialRequest.valueID(of: relay),
                                         payload: RelayDialRequest(target: relay, endpoints: [endpoint]).encoded)
            } catch {
                logger.warning("could not ask a leader to dial a circuit relay", metadata: ["leader": "\(leader)", "relay": "\(relay)", "reason": "\(error)"])
            }
        }
    }

    /// An import waiting for its exporting leader to dial in: listens once it has (within
    /// `dialInWait`), or — after `circuitAfter` — through a circuit relay this leader
    /// reached, and tells the machine.
    func awaitDialIn(_ key: ImportKey, _ source: RelaySource, driver: GatewayDriver) async {
        let started = ContinuousClock.now
        let deadline = started + Self.dialInWait
        var lookedAgain = false
        while ContinuousClock.now < deadline, !Task.isCancelled, dialIns.withLock({ $0.contains(key) }) {
            let addresses = lan.withLock { $0 }.addresses.map(Endpoint.Address.init)
            var via: (leader: NodeID, endpoint: Endpoint)?
            if directory.leaders.contains(source.leader), let endpoint = source.endpoints.first {
                via = (source.leader, endpoint)
            } else if started.duration(to: .now) >= Self.circuitAfter {
                if !lookedAgain, !hasCircuitRelay(besides: source.leader) {
                    // Another leader's relay may have shown up in the directory since the
                    // import asked (its entry came later, or the table was a second old).
                    lookedAgain = true
                    let table = await driver.circuitTable()
                    grants.circuits.withLock { $0 = table }
                    if await reachCircuitRelays(besides: source.leader, from: lan.withLock { $0 }) {
                        await askToDialCircuitRelays(source.leader)
                    }
                }
                if let relay = reached.withLock({ $0 }).filter({ $0.key != source.leader }).min(by: { $0.key < $1.key }) {
                    via = (relay.key, relay.value)
                    logger.info("going through a circuit relay", metadata: [
                        "service": "\(key)", "leader": "\(source.leader)", "relay": "\(relay.key)", "at": "\(relay.value)",
                    ])
                }
            }
            if let via {
                guard !addresses.isEmpty, dialIns.withLock({ $0.remove(key) }) != nil else { return }
                await driver.relayEvent(await listen(key, source, via: via.endpoint, leader: via.leader, on: addresses))
                return
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        if dialIns.withLock({ $0.remove(key) }) != nil {
            logger.warning("the exporting leader did not dial in", metadata: ["service": "\(key)", "leader": "\(source.leader)", "waited": "\(Self.dialInWait)"])
        }
    }

    /// Other leaders' requests that this one dial a relay (theirs, or a circuit relay's):
    /// each target is dialled (a reverse tunnel), and dialled again whenever the tunnel
    /// drops, while some request names it.
    func serveDialRequests(_ group: inout TaskGroup<Void>) async {
        for await change in await rendezvous.subscribe(key: RecordKeys.relayDial(node, network: network)) {
            switch change {
            case .upserted(let value):
                guard let request = try? RelayDialRequest(decoding: value.payload), !request.endpoints.isEmpty,
                      request.target != node, value.valueID == RelayDialRequest.valueID(of: request.target) else {
                    logger.debug("relay dial request refused: it does not decode", metadata: ["from": "\(value.owner)"])
                    continue
                }
                let isNew = dialRequests.withLock { requests in
                    defer { requests[value.slot] = request }
                    return !requests.values.contains { $0.target == request.target }
                }
                logger.info("asked to dial a relay", metadata: ["by": "\(value.owner)", "leader": "\(request.target)"])
                if isNew { group.addTask { await self.dialOut(to: request.target) } }
            case .removed(_, let slot):
                dialRequests.withLock { _ = $0.removeValue(forKey: slot) }
            }
        }
    }

    /// Keeps a reverse tunnel to `target` up while a request names it, with backoff. Only
    /// requests of leaders of other islands this leader knows count (any holder of the
    /// network key could put one): until the asker shows up in the directory, it waits.
    func dialOut(to target: NodeID) async {
        var backoff = Duration.seconds(1)
        while !Task.isCancelled {
            let requests = dialRequests.withLock { $0.filter { $0.value.target == target } }
            guard !requests.isEmpty else { return }
            let leaders = Set(grants.circuits.withLock { $0.leaders.values.map(\.leader) })
            let endpoints = Array(Set(requests.filter { leaders.contains($0.key.owner) }.values.flatMap(\.endpoints)))
            if !endpoints.isEmpty, let endpoint = await firstConnecting(endpoints) {
                do {
                    let tunnel = try await exporter.dialOut(to: Contact(id: target, endpoint: endpoint))
                    logger.info("reverse relay tunnel up", metadata: ["leader": "\(target)", "via": "\(endpoint)"])
                    backoff = .seconds(1)
                    await tunnel.closed()
                    logger.info("reverse relay tunnel closed", metadata: ["leader": "\(target)"])
                } catch {
                    logger.warning("reverse relay tunnel not set up", metadata: ["leader": "\(target)", "reason": "\(error)"])
                }
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(30))
        }
    }
}
