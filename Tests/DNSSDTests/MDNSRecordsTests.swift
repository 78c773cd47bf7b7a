@testable import DNSSD
import Testing

/// `MDNSResponse.records(in:)`: the SRV, TXT and address records a router keeps its
/// resolutions current by, read off the wire beside the PTRs.
struct MDNSRecordsTests {
    static func name(_ text: String) -> [UInt8] {
        text.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    static func record(_ owner: [UInt8], type: UInt16, ttl: UInt32, _ data: [UInt8]) -> [UInt8] {
        owner + [UInt8(type >> 8), UInt8(type & 0xff), 0x80, 1]
            + [UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xff), UInt8(ttl >> 8 & 0xff), UInt8(ttl & 0xff)]
            + [UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data
    }

    /// An announcement of `Lab Printer._ipp._tcp.local`: PTR, SRV (target `printer.local`
    /// in full), TXT, then A and AAAA (a goodbye) of `printer.local`, then `extra`.
    static func announcement(extra: [[UInt8]] = []) -> [UInt8] {
        let instance = name("Lab Printer._ipp._tcp.local")
        let host = name("printer.local")
        var records = [
            record(name("_ipp._tcp.local"), type: 12, ttl: 4500, instance),
            record(instance, type: 33, ttl: 120, [0, 0, 0, 0, 0x02, 0x77] + host),
            record(instance, type: 16, ttl: 4500, [8] + Array("rp=queue".utf8) + [3] + Array("a=b".utf8)),
            record(host, type: 1, ttl: 120, [10, 0, 1, 5]),
            record(host, type: 28, ttl: 0, [0xfd] + [UInt8](repeating: 0, count: 14) + [5]),
        ]
        records += extra
        return [0, 0, 0x84, 0, 0, 0, 0, UInt8(records.count), 0, 0, 0, 0] + records.flatMap { $0 }
    }

    @Test func srvTxtAndAddressRecordsAreReadBesideThePointers() throws {
        let records = try MDNSResponse.records(in: Self.announcement()).get()
        #expect(records.pointers.count == 1)
        let others = records.others
        #expect(others.count == 4)
        let id = ServiceID(name: try InstanceName("Lab Printer"), type: try ServiceType("_ipp._tcp"))
        #expect(others[0].serviceID == id)
        #expect(others[0].data == .srv(port: 631, target: [Array("printer".utf8), Array("local".utf8)]))
        #expect(others[0].ttl == 120)
        #expect(others[1].data == .txt([Array("rp=queue".utf8), Array("a=b".utf8)]))
        #expect(others[2].data == .address(try IPAddress("10.0.1.5")) && others[2].canonicalOwner == "printer.local")
        #expect(others[3].data == .address(try IPAddress("fd00::5")) && others[3].ttl == 0)
        // The PTR readers see what they saw before.
        #expect(try MDNSResponse.ptrRecords(in: Self.announcement()).get() == records.pointers)
    }

    @Test func aCompressedSRVTargetAndAnEmptyTXTAreRead() throws {
        // The SRV's owner is the answer's first name (offset 12); its target points at "local" in it.
        let owner = Self.name("Lab Printer._ipp._tcp.local")
        let localOffset = 12 + 1 + 11 + 1 + 4 + 1 + 4
        let srv = Self.record(owner, type: 33, ttl: 120, [0, 0, 0, 0, 0x1f, 0x90, 7] + Array("printer".utf8) + [0xc0, UInt8(localOffset)])
        let txt = Self.record([0xc0, 12], type: 16, ttl: 4500, [])
        let bytes: [UInt8] = [0, 0, 0x84, 0, 0, 0, 0, 2, 0, 0, 0, 0] + srv + txt
        let others = try MDNSResponse.records(in: bytes).get().others
        #expect(others.map(\.data) == [.srv(port: 8080, target: [Array("printer".utf8), Array("local".utf8)]), .txt([])])
        #expect(others[1].serviceID == others[0].serviceID && others[0].serviceID != nil)
    }

    @Test func anAddressOfTheWrongSizeIsRefusedWithItsPlace() {
        let bad = Self.record(Self.name("printer.local"), type: 1, ttl: 120, [10, 0, 1])
        let bytes = Self.announcement(extra: [bad])
        let offset = bytes.count - 3
        #expect(MDNSResponse.records(in: bytes) == .failure(.badRecordData(type: 1, at: offset)))
    }

    @Test func aTXTStringRunningPastItsRecordIsRefused() {
        let bad = Self.record(Self.name("X._ipp._tcp.local"), type: 16, ttl: 120, [5, 65, 66])
        guard case .failure(.badRecordData(type: 16, _)) = MDNSResponse.records(in: Self.announcement(extra: [bad])) else {
            Issue.record("accepted a TXT string longer than its record")
            return
        }
    }

    @Test func anSRVTooShortForItsTargetIsRefused() {
        let bad = Self.record(Self.name("X._ipp._tcp.local"), type: 33, ttl: 120, [0, 0, 0, 0, 1, 1])
        guard case .failure(.badRecordData(type: 33, _)) = MDNSResponse.records(in: Self.announcement(extra: [bad])) else {
            Issue.record("accepted an SRV record without a target")
            return
        }
    }

    @Test func everyTruncationIsRefusedNeverRead() {
        let full = Self.announcement()
        for length in 0..<full.count {
            guard case .failure = MDNSResponse.records(in: Array(full.prefix(length))) else {
                Issue.record("a message cut at \(length) bytes was accepted")
                continue
            }
        }
    }

    @Test func otherClassesAndTypesAreSkipped() throws {
        var chaos = Self.record(Self.name("printer.local"), type: 1, ttl: 120, [10, 0, 1, 9])
        chaos[Self.name("printer.local").count + 3] = 3 // class CH
        let nsec = Self.record(Self.name("printer.local"), type: 47, ttl: 120, [0xc0, 12, 0, 1, 0x40])
        let others = try MDNSResponse.records(in: Self.announcement(extra: [chaos, nsec])).get().others
        #expect(others.count == 4)
    }
}
