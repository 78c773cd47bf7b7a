import Primitives
import Testing

@Suite struct EndpointTests {
    @Test func addressBytesAreInNetworkOrderAndRoundTrip() {
        let v4 = Endpoint(ipv4: 10, 58, 2, 11, port: 7400).address
        #expect(v4.bytes == [10, 58, 2, 11])
        #expect(Endpoint.Address(bytes: [10, 58, 2, 11]) == v4)
        let v6Bytes: [UInt8] = [0xfd, 0x00, 0, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12]
        let v6 = Endpoint.Address(bytes: v6Bytes)
        #expect(v6 == .v6(0xfd00_0080_0001_0000, 0x12))
        #expect(v6?.bytes == v6Bytes)
        #expect(Endpoint(address: .v6(0xfd00_0080_0001_0000, 0x12), port: 1).host == "fd00:80:1:0:0:0:0:12")
    }

    @Test func addressOfAnyOtherLengthIsRefused() {
        for count in [0, 1, 3, 5, 15, 17, 20] {
            #expect(Endpoint.Address(bytes: [UInt8](repeating: 1, count: count)) == nil, "\(count) bytes")
        }
    }
}
