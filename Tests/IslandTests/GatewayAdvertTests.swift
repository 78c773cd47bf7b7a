import DNSSD
@testable import Island
import Primitives
import Testing

struct GatewayAdvertTests {
    @Test func advertRoundTripsThroughItsTXTRecord() throws {
        let advert = GatewayAdvert(id: NodeID(w0: 0xdead, w1: 1, w2: 2, w3: 0xbeef), priority: 200, port: 7400,
                                   network: NetworkID(rawValue: 0x00ff00ff00ff00ff))
        #expect(try GatewayAdvert.parse(advert.txt).get() == advert)
        #expect(advert.txt["net"]?.text == "00ff00ff00ff00ff")
        #expect(GatewayAdvert.serviceType.description == "_z2z._udp")
    }

    @Test func malformedAdvertsAreRefusedWithTheMissingField() throws {
        let good = GatewayAdvert(id: NodeID(w0: 1, w1: 1, w2: 1, w3: 1), priority: 1, port: 7400, network: NetworkID(rawValue: 1)).txt
        var entries = good.entries
        entries.removeAll { $0.key == "id" }
        #expect(GatewayAdvert.parse(try TXTRecord(entries: entries)) == .failure(.missing("id")))
        #expect(GatewayAdvert.parse(try TXTRecord(["v": "2"])) == .failure(.unsupportedVersion(2)))
        #expect(GatewayAdvert.parse(.empty) == .failure(.missing("v")))
        var badPort = good.entries.filter { $0.key != "port" }
        badPort.append(try TXTEntry(key: "port", text: "0"))
        #expect(GatewayAdvert.parse(try TXTRecord(entries: badPort)) == .failure(.missing("port")))
    }
}
