import DNSSD
@testable import Gateway
import Island
import Primitives
import Rendezvous
import Testing

/// Which directory entry names an island's leader, as one leading gateway sees the
/// rendezvous (RELIABILITY.md, finding 4): the highest term wins, whatever order entries
/// arrive in, so a dead leader's entry handed on late (an overlay merge) changes nothing.
struct IslandLeadersTests {
    let network = NetworkID(rawValue: 0x2a)
    let dead = NodeID(w0: 0xdead, w1: 0, w2: 0, w3: 0)
    let successor = NodeID(w0: 0x5cc, w1: 0, w2: 0, w3: 0)

    /// A lone gateway that leads island A (its listen window over).
    func leader() -> GatewayMachine {
        let settings = GatewayMachine.Settings(id: NodeID(w0: 1, w1: 0, w2: 0, w3: 0), network: network, priority: 100,
                                               port: 7400, island: Fixture.islandA, seed: 1)
        var machine = GatewayMachine(settings: settings)
        _ = machine.handle(.tick, now: .zero)
        _ = machine.handle(.tick, now: .zero + .seconds(3.1))
        return machine
    }

    func entry(_ owner: NodeID, term: UInt64) -> RendezvousChange {
        let entry = IslandDirectoryEntry(island: Fixture.islandB, name: "island-b", leader: owner,
                                         types: [try! ServiceType("_ipp._tcp")], services: 1, term: term)
        return .upserted(RendezvousValue(key: RecordKeys.directory(network: network), owner: owner, valueID: 0, sequence: 1,
                                         payload: IslandDirectoryCodec.encode(entry)))
    }

    func record(_ owner: NodeID) throws -> RendezvousChange {
        let record = try Fixture.record("P")
        return .upserted(RendezvousValue(key: RecordKeys.type(record.type, network: network), owner: owner,
                                         valueID: RecordKeys.valueID(of: record.name, type: record.type), sequence: 1,
                                         payload: ServiceRecordCodec.encode(record)))
    }

    @Test func theEntryWithTheHigherTermNamesTheLeaderWhateverTheOrderOfArrival() throws {
        var machine = leader()
        #expect(machine.role == .leader)
        let now = Instant.zero + .seconds(5)
        _ = machine.handle(.rendezvous(entry(successor, term: 1_764_100_200)), now: now)
        _ = machine.handle(.rendezvous(entry(dead, term: 1_764_100_100)), now: now) // late, and older
        #expect(machine.islandLeaders[Fixture.islandB] == successor)
        _ = machine.handle(.rendezvous(try record(dead)), now: now)
        _ = machine.handle(.rendezvous(try record(successor)), now: now)
        #expect(machine.imports.imports.count == 1)
        // The successor withdraws P; the dead leader's copy no longer counts.
        let slot = ValueSlot(owner: successor, valueID: RecordKeys.valueID(of: try InstanceName("P"), type: try ServiceType("_ipp._tcp")))
        let effects = machine.handle(.rendezvous(.removed(RecordKeys.type(try ServiceType("_ipp._tcp"), network: network), slot)),
                                     now: now)
        #expect(effects.contains(.withdraw(try Fixture.record("P").id)))
        #expect(machine.imports.imports.isEmpty)
    }

    @Test func aLeaderPublishesItsTermInItsDirectoryEntry() throws {
        var machine = leader()
        let effects = machine.handle(.local(.added(try Fixture.service("Desk"))), now: .zero + .seconds(4))
            + machine.handle(.tick, now: .zero + .seconds(10))
        let entries = effects.compactMap { effect -> IslandDirectoryEntry? in
            guard case .put(let key, _, let payload) = effect, key == RecordKeys.directory(network: network) else { return nil }
            return try? IslandDirectoryCodec.decode(payload)
        }
        #expect(!entries.isEmpty)
        #expect(entries.allSatisfy { $0.term == machine.election.term && $0.term > 0 })
    }

    /// The directory entry names the leader's relay, so it is published again when the offer
    /// changes, even on an island that exports nothing (a circuit relay for islands behind NAT).
    @Test func aLeaderThatExportsNothingRepublishesItsEntryWhenItsRelayOfferChanges() throws {
        var machine = leader()
        let directory = RecordKeys.directory(network: network)
        func entries(_ effects: [GatewayMachine.Effect]) -> [IslandDirectoryEntry] {
            effects.compactMap { effect in
                guard case .put(let key, _, let payload) = effect, key == directory else { return nil }
                return try? IslandDirectoryCodec.decode(payload)
            }
        }
        let offer = RelayOffer(endpoints: [Endpoint(ipv4: 203, 0, 113, 1, port: 8022)], lanPrefixes: [], lanRouted: false)
        let prefixes = [IPPrefix(try IPAddress("10.1.0.0"), length: 16)!]
        let addresses = [try IPAddress("10.1.0.1")]
        let offered = entries(machine.setRelayNetwork(offer: offer, localPrefixes: prefixes, localAddresses: addresses))
        #expect(offered.map(\.relay) == [offer.endpoints])
        #expect(offered.allSatisfy { $0.services == 0 && $0.leader == machine.settings.id })
        #expect(entries(machine.setRelayNetwork(offer: offer, localPrefixes: prefixes, localAddresses: addresses)).isEmpty,
                "unchanged offer, unchanged entry")
        var moved = offer
        moved.endpoints = [Endpoint(ipv4: 203, 0, 113, 2, port: 8022)]
        #expect(entries(machine.setRelayOffer(moved)).map(\.relay) == [moved.endpoints])
        #expect(entries(machine.setRelayOffer(nil)).map(\.relay) == [[]])
    }
}
