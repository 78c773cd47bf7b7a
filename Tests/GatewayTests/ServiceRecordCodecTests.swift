import DNSSD
@testable import Gateway
import Island
import Primitives
import Testing

struct ServiceRecordCodecTests {
    @Test func recordRoundTripsWithBinaryTXTSubtypesAndBothFamilies() throws {
        let txt = try TXTRecord(entries: [try TXTEntry(key: "bin", value: [0, 255, 34, 92]), try TXTEntry(key: "flag", value: nil)])
        var record = try Fixture.record("Lab Printer 3.1 (Raum Ä)", addresses: ["10.0.2.5", "2001:db8::5"], txt: txt)
        record.subtypes = [try Subtype("_print"), try Subtype("_universal")]
        #expect(try ServiceRecordCodec.decode(ServiceRecordCodec.encode(record)) == record)
    }

    @Test func everyTruncationIsRefused() throws {
        let bytes = ServiceRecordCodec.encode(try Fixture.record("P"))
        for length in 0..<bytes.count {
            #expect(throws: ServiceRecordRejection.self) { try ServiceRecordCodec.decode(Array(bytes.prefix(length))) }
        }
        #expect(throws: ServiceRecordRejection.read(.trailingBytes(1))) { try ServiceRecordCodec.decode(bytes + [0]) }
    }

    @Test func invalidFieldsAreRefusedWithTheDNSSDReason() throws {
        var bytes = ServiceRecordCodec.encode(try Fixture.record("P"))
        bytes[4] = 9
        #expect(throws: ServiceRecordRejection.unsupportedVersion(9)) { try ServiceRecordCodec.decode(bytes) }
        // Replace the type text "_ipp._tcp" with "_ipp._xyz".
        var typed = ServiceRecordCodec.encode(try Fixture.record("P"))
        let start = try #require(typed.firstIndex(of: UInt8(ascii: "_")))
        typed.replaceSubrange((start + 6)..<(start + 9), with: Array("xyz".utf8))
        do {
            _ = try ServiceRecordCodec.decode(typed)
            Issue.record("accepted a bad type")
        } catch {
            #expect(error.reason == "transport_invalid")
        }
    }

    @Test func randomCorruptionNeverCrashes() throws {
        let base = ServiceRecordCodec.encode(try Fixture.record("Printer", txt: try TXTRecord(["a": "1"])))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? ServiceRecordCodec.decode(bytes)
        }
    }
}

struct SynthesizedHostTests {
    @Test func hostNameCarriesTheMarkerAndIsRecognized() throws {
        let host = SynthesizedHost.name(label: "printer", island: Fixture.islandB)
        #expect(host.value == "printer-z2z-0b0b0b0b.local")
        #expect(SynthesizedHost.isSynthesized(host))
        #expect(!SynthesizedHost.isSynthesized(try HostName("printer.local")))
        #expect(!SynthesizedHost.isSynthesized(try HostName("my-z2z-notahex.local")))
        let relayed = SynthesizedHost.name(label: "printer", island: Fixture.islandB, relayed: true)
        #expect(relayed.value == "printer-relay-z2z-0b0b0b0b.local")
        #expect(SynthesizedHost.isSynthesized(relayed))
    }

    @Test func longLabelsAreShortenedToFitOneLabel() throws {
        let host = SynthesizedHost.name(label: String(repeating: "ä", count: 60), island: Fixture.islandA)
        #expect(host.labels[0].utf8.count <= 63)
        #expect(SynthesizedHost.isSynthesized(host))
    }
}

/// Version 2: a record with a relay offer (issue 14) — and version 1 unchanged for records without one.
struct ServiceRecordRelayCodecTests {
    @Test func aRecordWithoutAnOfferIsVersionOneByteForByte() throws {
        let bytes = ServiceRecordCodec.encode(try Fixture.record("P"))
        #expect(bytes[4] == 1)
        #expect(try ServiceRecordCodec.decode(bytes).relay == nil)
    }

    @Test func anOfferRoundTripsAndALinkLocalOnlyServiceNeedsNoAddress() throws {
        var record = try Fixture.record("Camera", addresses: [])
        record.relay = RelayOffer(endpoints: [Endpoint(ipv4: 100, 64, 1, 1, port: 7403), Endpoint(address: .v6(0xfd64 << 48, 0x101), port: 7403)],
                                  lanPrefixes: [try IPPrefix("192.168.1.0/24"), try IPPrefix("fd00:1::/64")], lanRouted: false)
        let bytes = ServiceRecordCodec.encode(record)
        #expect(bytes[4] == 2)
        #expect(try ServiceRecordCodec.decode(bytes) == record)
        for length in 0..<bytes.count {
            #expect(throws: ServiceRecordRejection.self) { try ServiceRecordCodec.decode(Array(bytes.prefix(length))) }
        }
        // Without the offer the same record would have no address: version 1 refuses that.
        var unoffered = bytes
        unoffered[4] = 1
        #expect(throws: ServiceRecordRejection.self) { try ServiceRecordCodec.decode(unoffered) }
    }

    @Test func badOffersAreRefusedWithAReason() throws {
        var record = try Fixture.record("Camera")
        record.relay = RelayOffer(lanPrefixes: [try IPPrefix("192.168.1.0/24")], lanRouted: true)
        let bytes = ServiceRecordCodec.encode(record)
        // The tail is: routed, count, family, 4 bytes, length, and no endpoint (count 0).
        var flag = bytes
        flag[bytes.count - 9] = 7
        #expect(throws: ServiceRecordRejection.self) { try ServiceRecordCodec.decode(flag) }
        var count = bytes
        count[bytes.count - 8] = 17
        #expect(throws: ServiceRecordRejection.tooManyPrefixes(17)) { try ServiceRecordCodec.decode(count) }
        var hostBits = bytes
        hostBits[bytes.count - 3] = 9 // 192.168.1.9/24: host bits set
        do {
            _ = try ServiceRecordCodec.decode(hostBits)
            Issue.record("accepted a prefix with host bits")
        } catch {
            #expect(error.reason == "address_malformed")
        }
        var length = bytes
        length[bytes.count - 2] = 33
        #expect(throws: ServiceRecordRejection.self) { try ServiceRecordCodec.decode(length) }
        var endpoints = bytes
        endpoints[bytes.count - 1] = 9
        #expect(throws: ServiceRecordRejection.tooManyEndpoints(9)) { try ServiceRecordCodec.decode(endpoints) }
    }
}
