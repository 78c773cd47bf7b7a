import Kademlia
import Primitives

/// Reproducible identities, contacts and messages for the tests.
enum Fixtures {
    static let network = NetworkID(name: "test")

    static func identity(_ n: UInt8) -> Identity {
        try! Identity(seed: [UInt8](repeating: n, count: 32))
    }

    static func endpoint(_ n: Int) -> Endpoint {
        Endpoint(address: .v4(0x7F00_0001), port: UInt16(10_000 + n))
    }

    static func contact(_ id: NodeID, _ n: Int = 0) -> Contact { Contact(id: id, endpoint: endpoint(n)) }

    /// An id whose distance to `base` has exactly `leadingZeros` leading zero bits.
    static func id(near base: NodeID, leadingZeros: Int, seed: UInt64) -> NodeID {
        var rng = Xoshiro256(seed: seed)
        return base.randomPoint(sharingPrefix: leadingZeros, using: &rng)
    }

    static func at(_ seconds: Double) -> Instant { .zero + .seconds(seconds) }

    /// A random message of every kind, for round-trip properties.
    static func randomMessage(seed: UInt64) -> Message {
        var rng = Xoshiro256(seed: seed)
        func contacts() -> [Contact] {
            (0..<Int(rng.next() % 21)).map { _ in
                let address: Endpoint.Address = rng.next() % 2 == 0 ? .v4(UInt32(truncatingIfNeeded: rng.next())) : .v6(rng.next(), rng.next())
                return Contact(id: .random(using: &rng), endpoint: Endpoint(address: address, port: UInt16(truncatingIfNeeded: rng.next())))
            }
        }
        func copy() -> RecordCopy {
            let ttl = UInt32(truncatingIfNeeded: rng.next())
            let record = Record(
                key: RecordKey(point: .random(using: &rng)), owner: .random(using: &rng), valueID: rng.next(),
                publicKey: (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
                sequence: rng.next(), ttl: ttl, isTombstone: rng.next() % 2 == 0,
                payload: (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
                signature: (0..<64).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            return RecordCopy(record: record, remaining: ttl == 0 ? 0 : UInt32(rng.next() % UInt64(ttl)))
        }
        let body: MessageBody
        switch rng.next() % 15 {
        case 0: body = .ping
        case 1: body = .pong
        case 2: body = .findNode(target: .random(using: &rng))
        case 3: body = .nodes(contacts())
        case 4: body = .findValue(key: RecordKey(point: .random(using: &rng)), offset: UInt16(truncatingIfNeeded: rng.next()))
        case 5: body = .values(records: (0..<Int(rng.next() % 4)).map { _ in copy() }, more: rng.next() % 2 == 0, closer: Array(contacts().prefix(3)))
        case 6: body = .store(copy())
        case 7: body = .stored(rng.next() % 2 == 0 ? nil : RecordRejection.allCases[Int(rng.next() % UInt64(RecordRejection.allCases.count))])
        case 8: body = .subscribe(key: RecordKey(point: .random(using: &rng)), lease: UInt32(truncatingIfNeeded: rng.next()))
        case 9: body = .subscribed(lease: UInt32(truncatingIfNeeded: rng.next()))
        case 10: body = .refresh(key: RecordKey(point: .random(using: &rng)),
                                 versions: (0..<Int(1 + rng.next() % 64)).map { _ in ValueVersion(valueID: rng.next(), sequence: rng.next()) })
        case 11: body = .refreshed(unknown: (0..<Int(rng.next() % 65)).map { _ in rng.next() })
        case 12: body = .probe(key: RecordKey(point: .random(using: &rng)), slots: (0..<Int(1 + rng.next() % 64)).map { _ in
                SlotVersion(slot: RecordSlot(owner: .random(using: &rng), valueID: rng.next()), sequence: rng.next()) })
        case 13: body = .held(remaining: (0..<Int(rng.next() % 65)).map { _ in UInt32(truncatingIfNeeded: rng.next()) })
        default: body = .notify(copy())
        }
        let header = MessageHeader(
            network: NetworkID(rawValue: rng.next()), overlay: rng.next() % 2 == 0 ? nil : rng.next(),
            structured: rng.next() % 2 == 0, merging: rng.next() % 2 == 0, sender: .random(using: &rng), transaction: UInt32(truncatingIfNeeded: rng.next()))
        return Message(header: header, body: body)
    }
}
