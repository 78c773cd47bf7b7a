// Writes the committed seed corpus (Fuzz/corpus/wire-decoder): one valid frame of each
// message kind. Built and run by `Fuzz/run --seeds`.
import Foundation

@main
struct SeedWriter {
    static func main() throws {
        let dir = CommandLine.arguments.dropFirst().first ?? "Fuzz/corpus/wire-decoder"
        let sender = NodeID(w0: 0x1111, w1: 0x2222, w2: 0x3333, w3: 0x4444)
        let header = MessageHeader(network: NetworkID(rawValue: 0xABCD), sender: sender, transaction: 42)
        let withOverlay = MessageHeader(network: NetworkID(rawValue: 0xABCD), overlay: 7, sender: sender, transaction: 43)
        let merging = MessageHeader(network: NetworkID(rawValue: 0xABCD), overlay: 7, structured: true, merging: true, sender: sender, transaction: 44)
        let contacts = [
            Contact(id: NodeID(w0: 1, w1: 2, w2: 3, w3: 4), endpoint: Endpoint(ipv4: 127, 0, 0, 1, port: 4000)),
            Contact(id: NodeID(w0: 5, w1: 6, w2: 7, w3: 8), endpoint: Endpoint(address: .v6(0xfe80, 1), port: 4001)),
        ]
        let record = Record(
            key: RecordKey(point: NodeID(w0: 9, w1: 9, w2: 9, w3: 9)), owner: sender, valueID: 0x0102, publicKey: [UInt8](repeating: 3, count: 32),
            sequence: 5, ttl: 600, isTombstone: false, payload: Array("printer".utf8), signature: [UInt8](repeating: 4, count: 64))
        let copy = RecordCopy(record: record, remaining: 300)
        let bodies: [(String, MessageHeader, MessageBody)] = [
            ("ping", header, .ping), ("pong", withOverlay, .pong), ("ping-structured-merging", merging, .ping),
            ("find-node", header, .findNode(target: sender)), ("nodes", header, .nodes(contacts)),
            ("find-value", header, .findValue(key: record.key, offset: 0)),
            ("values", header, .values(records: [copy], more: true, closer: contacts)),
            ("store", header, .store(copy)), ("stored", header, .stored(nil)), ("stored-rejected", header, .stored(.staleSequence)),
            ("subscribe", header, .subscribe(key: record.key, lease: 600)), ("subscribed", header, .subscribed(lease: 600)),
            ("notify", header, .notify(copy)),
            ("refresh", withOverlay, .refresh(key: record.key, versions: [ValueVersion(valueID: 0x0102, sequence: 5), ValueVersion(valueID: 7, sequence: 1)])),
            ("refreshed", header, .refreshed(unknown: [0x0102])),
            ("probe", merging, .probe(key: record.key, slots: [SlotVersion(slot: record.slot, sequence: 5)])),
            ("held", header, .held(remaining: [300, 0])),
        ]
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, h, body) in bodies {
            let bytes = WireCodec().encode(Message(header: h, body: body))
            try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name).bin"))
        }
        print("wrote \(bodies.count) seeds to \(dir)")
    }
}
