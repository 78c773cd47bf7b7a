import Kademlia
import Primitives
import Rendezvous
import Testing

/// The shared client of both engines on virtual time: what it writes, when it bootstraps,
/// and what it places again, with the engine's answers given by hand.
struct RendezvousClientTests {
    typealias Action = RendezvousClient.Action
    typealias Write = RendezvousClient.Write

    static let network = NetworkID(name: "client-test")
    let printers = RecordKey.make(network: Self.network, namespace: "type", name: "_ipp._tcp")
    let web = RecordKey.make(network: Self.network, namespace: "type", name: "_http._tcp")
    let seed = Endpoint(ipv4: 10, 0, 0, 1, port: 4000)
    let otherOverlay = Endpoint(ipv4: 10, 0, 9, 9, port: 4000)

    func at(_ seconds: Double) -> Instant { Instant(nanoseconds: UInt64(seconds * 1e9)) }

    func writes(_ actions: [Action]) -> [Write] {
        actions.compactMap { if case .store(let write) = $0 { write } else { nil } }
    }

    /// A joined client with one seed, connected at t=0 (the engine already had a peer).
    func connectedClient(_ replacement: RendezvousClient.Replacement = .unplaced) -> RendezvousClient {
        var client = RendezvousClient(seeds: [seed], wallClockMilliseconds: 1_000,
                                      configuration: .init(retryInterval: .seconds(5), replacement: replacement))
        client.join(now: at(0))
        #expect(client.round(now: at(0), peers: 1) == [.connected(peers: 1)])
        return client
    }

    /// Loses every peer at `t` and finds one again through the seed: the actions of connecting.
    func reconnect(_ client: inout RendezvousClient, at t: Double) -> [Action] {
        #expect(client.round(now: at(t), peers: 0) == [.bootstrap([seed])])
        #expect(client.bootstrapped(reached: 0, now: at(t)) == [])
        #expect(!client.connected)
        #expect(client.round(now: at(t + 5), peers: 0) == [.bootstrap([seed])])
        return client.bootstrapped(reached: 1, now: at(t + 5))
    }

    // MARK: values

    @Test func aValuePutWhileAloneIsPutAgainOnConnecting() {
        var client = RendezvousClient(seeds: [seed], wallClockMilliseconds: 1_000)
        client.join(now: at(0))
        let first = writes(client.put(key: printers, valueID: 1, payload: [1, 2, 3]))
        #expect(client.round(now: at(0), peers: 0) == [.bootstrap([seed])])
        #expect(client.bootstrapped(reached: 0, now: at(0.5)) == [], "nobody answered: still alone")
        #expect(client.round(now: at(5), peers: 0) == [.bootstrap([seed])], "alone: every round bootstraps again")
        let connecting = client.bootstrapped(reached: 2, now: at(5.5))
        let again = Write(key: printers, valueID: 1, sequence: first[0].sequence + 1, payload: [1, 2, 3], isTombstone: false)
        #expect(connecting == [.connected(peers: 2), .store(again)])
        #expect(client.isCurrent(again))
        #expect(client.round(now: at(10), peers: 2) == [], "connected: nothing to do")
    }

    @Test func removingDeletesFromThePublishedTableSoAReconnectDoesNotResurrectIt() {
        var client = connectedClient()
        let removed = writes(client.put(key: printers, valueID: 1, payload: [1]))[0]
        _ = client.put(key: printers, valueID: 2, payload: [2])
        let tombstone = writes(client.remove(key: printers, valueID: 1))
        #expect(tombstone.map(\.isTombstone) == [true] && tombstone.map(\.valueID) == [1])
        #expect(client.publishedCount == 1)
        #expect(!client.isCurrent(removed), "a republish of it decided earlier must not go out")
        let again = writes(reconnect(&client, at: 10))
        #expect(again.map(\.valueID) == [2] && again.map(\.payload) == [[2]])
    }

    @Test func aValueWriteOvertakenByALaterOneIsNoLongerCurrent() {
        var client = connectedClient()
        let older = writes(client.put(key: printers, valueID: 1, payload: [1]))[0]
        let newer = writes(client.put(key: printers, valueID: 1, payload: [2]))[0]
        #expect(newer.sequence > older.sequence)
        #expect(!client.isCurrent(older) && client.isCurrent(newer))
        #expect(client.publishedCount == 1, "one slot, one value")
    }

    @Test func everyReconnectPutsEverythingAgainUnderNewSequences() {
        var client = connectedClient()
        let put = writes(client.put(key: printers, valueID: 1, payload: [1]))[0]
        let first = writes(reconnect(&client, at: 10))
        let second = writes(reconnect(&client, at: 20))
        #expect(first.map(\.payload) == [[1]] && second.map(\.payload) == [[1]])
        #expect(put.sequence < first[0].sequence && first[0].sequence < second[0].sequence)
    }

    // MARK: sequence numbers

    @Test func sequenceNumbersNeverGoBackwardsAcrossARestartWithAPersistedStore() {
        var before = RendezvousClient(seeds: [], wallClockMilliseconds: 1_000)
        for valueID: UInt64 in 1...3 { _ = before.put(key: printers, valueID: valueID, payload: []) }
        // The clock was set back while the gateway was down.
        var after = RendezvousClient(seeds: [], persistedSequence: before.sequence, wallClockMilliseconds: 900)
        let next = writes(after.remove(key: printers, valueID: 1))[0]
        #expect(next.sequence == 1_004)
    }

    @Test func sequenceNumbersNeverGoBackwardsAcrossARestartWithTheWallClockFloor() {
        var before = RendezvousClient(seeds: [], wallClockMilliseconds: 1_000)
        for valueID: UInt64 in 1...5 { _ = before.put(key: printers, valueID: valueID, payload: []) }
        // Nothing persisted; a second later on the wall clock.
        var after = RendezvousClient(seeds: [], wallClockMilliseconds: 2_000)
        let next = writes(after.put(key: printers, valueID: 1, payload: []))[0]
        #expect(next.sequence > before.sequence)
        #expect(next.sequence == 2_001)
    }

    // MARK: rounds and seeds

    @Test func joiningAsksForARoundAtOnceAndThenOneEveryRetryInterval() {
        var client = RendezvousClient(seeds: [seed], wallClockMilliseconds: 1_000)
        #expect(client.nextRound == nil, "not joined: no rounds")
        client.join(now: at(3))
        #expect(client.nextRound == at(3))
        _ = client.round(now: at(3), peers: 0)
        #expect(client.nextRound == nil, "waiting for the bootstrap")
        #expect(client.round(now: at(4), peers: 0) == [], "a round waiting for its bootstrap starts no other")
        _ = client.bootstrapped(reached: 0, now: at(4))
        #expect(client.nextRound == at(8))
    }

    @Test func leaveStopsRetries() {
        var client = RendezvousClient(seeds: [seed], wallClockMilliseconds: 1_000)
        client.join(now: at(0))
        #expect(client.round(now: at(0), peers: 0) == [.bootstrap([seed])])
        _ = client.put(key: printers, valueID: 1, payload: [1])
        client.leave()
        #expect(client.bootstrapped(reached: 3, now: at(1)) == [], "an answer after leaving connects nothing")
        #expect(!client.connected)
        #expect(client.nextRound == nil)
        #expect(client.round(now: at(60), peers: 0) == [], "no bootstrap while not leading")
    }

    @Test func aSeedAddedWhileConnectedIsJoinedThroughOnce() {
        var client = connectedClient()
        _ = client.put(key: printers, valueID: 1, payload: [1])
        client.addSeeds([otherOverlay, seed], now: at(2))
        #expect(client.nextRound == at(2), "a new seed asks for a round at once")
        #expect(client.round(now: at(2), peers: 1) == [.joinThrough([otherOverlay])], "only the new one")
        #expect(client.bootstrapped(reached: 7, now: at(2.5)) == [], "already connected: the DHT merges by itself")
        #expect(client.round(now: at(7), peers: 7) == [])
        client.addSeeds([otherOverlay], now: at(8))
        #expect(client.nextRound == at(12), "a known seed asks for nothing")
        #expect(client.seeds == [seed, otherOverlay])
    }

    @Test func seedsGivenWhileNotLeadingAreJoinedThroughOnJoiningConnected() {
        var client = RendezvousClient(seeds: [seed], wallClockMilliseconds: 1_000)
        client.addSeeds([otherOverlay], now: at(0))
        #expect(client.nextRound == nil)
        client.join(now: at(1))
        #expect(client.round(now: at(1), peers: 4) == [.joinThrough([otherOverlay])])
        #expect(client.bootstrapped(reached: 4, now: at(1)) == [.connected(peers: 4)])
    }

    @Test func aloneANewSeedIsPartOfTheBootstrapThroughAllSeeds() {
        var client = RendezvousClient(seeds: [seed], wallClockMilliseconds: 1_000)
        client.join(now: at(0))
        client.addSeeds([otherOverlay], now: at(0))
        #expect(client.round(now: at(0), peers: 0) == [.bootstrap([seed, otherOverlay])])
        _ = client.bootstrapped(reached: 1, now: at(0))
        #expect(client.round(now: at(5), peers: 1) == [], "the new seed was used while alone: not joined through again")
    }

    @Test func withoutSeedsAnAloneNodeWaitsForOthersToFindIt() {
        var client = RendezvousClient(seeds: [], wallClockMilliseconds: 1_000)
        client.join(now: at(0))
        _ = client.put(key: printers, valueID: 1, payload: [1])
        #expect(client.round(now: at(0), peers: 0) == [])
        #expect(writes(client.round(now: at(5), peers: 1)).map(\.payload) == [[1]], "someone joined through us")
    }

    // MARK: subscriptions

    @Test func aSubscriptionThatReachedNoHolderIsPlacedAgainOnConnectingAndAPlacedOneIsNot() {
        var client = RendezvousClient(seeds: [seed], wallClockMilliseconds: 1_000)
        client.join(now: at(0))
        let directory = RecordKey.make(network: Self.network, namespace: "directory", name: "islands")
        #expect(client.subscribe(printers) == [.place(printers, generation: 1)])
        client.placed(printers, generation: 1, false)
        _ = client.subscribe(web)
        client.placed(web, generation: 2, true)
        _ = client.subscribe(directory) // still being placed when the node connects
        _ = client.round(now: at(0), peers: 0)
        let connecting = client.bootstrapped(reached: 1, now: at(1))
        #expect(connecting == [.connected(peers: 1), .place(printers, generation: 1)])
        #expect(client.subscriptions[printers]?.placement == .placing)
        #expect(client.subscriptions[directory]?.placement == .placing)
    }

    @Test func withReplacementAllEverySubscriptionIsPlacedAgainOnConnecting() {
        var client = connectedClient(.all)
        _ = client.subscribe(printers)
        client.placed(printers, generation: 1, true)
        _ = client.subscribe(web)
        client.placed(web, generation: 2, false)
        let places = reconnect(&client, at: 10).filter { if case .place = $0 { true } else { false } }
        #expect(places.count == 2)
        #expect(Set(places) == [.place(web, generation: 2), .place(printers, generation: 1)], "placed or not")
    }

    @Test func anAnswerForAnEarlierSubscriptionIsIgnored() {
        var client = connectedClient()
        _ = client.subscribe(printers)
        #expect(client.subscribe(printers) == [.place(printers, generation: 2)])
        client.placed(printers, generation: 1, true)
        #expect(client.subscriptions[printers] == .init(generation: 2, placement: .placing))
        #expect(!client.isCurrent(printers, generation: 1) && client.isCurrent(printers, generation: 2))
        #expect(client.unsubscribe(printers) == [.cancel(printers)])
        #expect(client.unsubscribe(printers) == [], "nothing left to cancel")
        #expect(!client.isCurrent(printers, generation: 2))
    }
}
