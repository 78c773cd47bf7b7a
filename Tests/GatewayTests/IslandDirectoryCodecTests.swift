import DNSSD
@testable import Gateway
import Island
import Primitives
import Testing

struct IslandDirectoryCodecTests {
    let entry = IslandDirectoryEntry(island: Fixture.islandB, name: "island-b", leader: NodeID(w0: 9, w1: 8, w2: 7, w3: 6),
                                     types: [try! ServiceType("_ipp._tcp")], services: 3, term: 1_764_100_000)
    var relayed: IslandDirectoryEntry {
        var relayed = entry
        relayed.relay = [Endpoint(ipv4: 203, 0, 113, 7, port: 8022), Endpoint(address: .v6(0x2001_0db8 << 32, 7), port: 8022)]
        return relayed
    }

    @Test func anEntryRoundTripsWithItsTerm() throws {
        #expect(try IslandDirectoryCodec.decode(IslandDirectoryCodec.encode(entry)) == entry)
    }

    @Test func anEntryRoundTripsWithItsRelayEndpointsAsVersionThree() throws {
        let bytes = IslandDirectoryCodec.encode(relayed)
        #expect(bytes[4] == 3)
        #expect(try IslandDirectoryCodec.decode(bytes) == relayed)
    }

    /// Gateways before version 3 still read the entry of a leader whose relay is off.
    @Test func anEntryWithoutRelayIsWrittenAsVersionTwo() {
        #expect(IslandDirectoryCodec.encode(entry)[4] == 2)
    }

    @Test func anEntryOfVersionTwoIsReadWithoutRelay() throws {
        var bytes = IslandDirectoryCodec.encode(relayed)
        bytes[4] = 2
        bytes.removeLast(bytes.count - IslandDirectoryCodec.encode(entry).count)
        #expect(try IslandDirectoryCodec.decode(bytes) == entry)
    }

    @Test func aVersionOneEntryWithoutTermIsReadAsTermZero() throws {
        var bytes = IslandDirectoryCodec.encode(entry)
        bytes[4] = 1
        bytes.removeLast(8)
        var expected = entry
        expected.term = 0
        #expect(try IslandDirectoryCodec.decode(bytes) == expected)
    }

    @Test func aTruncatedTermOrAnUnknownVersionIsRefusedWithItsReason() {
        var truncated = IslandDirectoryCodec.encode(entry)
        truncated.removeLast(3)
        #expect(throws: IslandDirectoryRejection.read(.truncated)) { try IslandDirectoryCodec.decode(truncated) }
        var future = IslandDirectoryCodec.encode(entry)
        future[4] = 4
        #expect(throws: IslandDirectoryRejection.unsupportedVersion(4)) { try IslandDirectoryCodec.decode(future) }
    }

    @Test func aTruncatedOrOverlongRelayOfferIsRefusedWithItsReason() {
        var truncated = IslandDirectoryCodec.encode(relayed)
        truncated.removeLast(1)
        #expect(throws: IslandDirectoryRejection.read(.truncated)) { try IslandDirectoryCodec.decode(truncated) }
        let trailing = IslandDirectoryCodec.encode(relayed) + [0]
        #expect(throws: IslandDirectoryRejection.read(.trailingBytes(1))) { try IslandDirectoryCodec.decode(trailing) }
        // A version 3 entry that ends at its term has no offer at all.
        var missing = IslandDirectoryCodec.encode(entry)
        missing[4] = 3
        #expect(throws: IslandDirectoryRejection.read(.truncated)) { try IslandDirectoryCodec.decode(missing) }
    }

    @Test func moreRelayEndpointsThanAnOfferHoldsAreRefusedWithItsReason() {
        let count = RelayOffer.maximumEndpoints + 1
        var oversized = IslandDirectoryCodec.encode(entry)
        oversized[4] = 3
        oversized += [0, 0, UInt8(count)] + (0..<count).flatMap { i in [4, 198, 51, 100, UInt8(i), 0x1f, 0x56] as [UInt8] }
        #expect(throws: IslandDirectoryRejection.invalidRelay(.tooManyEndpoints(count))) { try IslandDirectoryCodec.decode(oversized) }
        #expect(IslandDirectoryRejection.invalidRelay(.tooManyEndpoints(count)).reason == "too_many_endpoints")
    }

    @Test func anEntryCarriesAtMostAnOffersEndpoints() throws {
        var crowded = entry
        crowded.relay = (0..<20).map { Endpoint(ipv4: 198, 51, 100, UInt8($0), port: 8022) }
        let decoded = try IslandDirectoryCodec.decode(IslandDirectoryCodec.encode(crowded))
        #expect(decoded.relay.count == RelayOffer.maximumEndpoints)
        #expect(Set(decoded.relay).isSubset(of: crowded.relay))
    }
}
