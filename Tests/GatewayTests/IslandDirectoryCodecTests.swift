import DNSSD
@testable import Gateway
import Island
import Primitives
import Testing

struct IslandDirectoryCodecTests {
    let entry = IslandDirectoryEntry(island: Fixture.islandB, name: "island-b", leader: NodeID(w0: 9, w1: 8, w2: 7, w3: 6),
                                     types: [try! ServiceType("_ipp._tcp")], services: 3, term: 1_764_100_000)

    @Test func anEntryRoundTripsWithItsTerm() throws {
        #expect(try IslandDirectoryCodec.decode(IslandDirectoryCodec.encode(entry)) == entry)
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
        future[4] = 3
        #expect(throws: IslandDirectoryRejection.unsupportedVersion(3)) { try IslandDirectoryCodec.decode(future) }
    }
}
