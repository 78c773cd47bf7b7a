import Kademlia
import Primitives
import PropertyBased
import Testing

@Suite struct WireCodecTests {
    let codec = WireCodec()
    let sender = NodeID(w0: 0x0102_0304_0506_0708, w1: 0, w2: 0, w3: 0x0A0B)

    func header(overlay: UInt64? = nil) -> MessageHeader {
        MessageHeader(network: NetworkID(rawValue: 0x1122_3344_5566_7788), overlay: overlay, sender: sender, transaction: 0xDEAD_BEEF)
    }

    func hex(_ bytes: [UInt8]) -> String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

    // MARK: golden

    @Test func pingGolden() {
        let bytes = codec.encode(Message(header: header(), body: .ping))
        #expect(hex(bytes) == "030100" + "1122334455667788" + "0102030405060708" + String(repeating: "0", count: 32) + "0000000000000a0b" + "deadbeef")
        #expect(bytes.count == WireCodec.encodedSize(Message(header: header(), body: .ping)))
    }

    @Test func findNodeWithOverlayGolden() {
        let target = NodeID(w0: 1, w1: 2, w2: 3, w3: 4)
        let bytes = codec.encode(Message(header: header(overlay: 0xAB), body: .findNode(target: target)))
        let expected = "030301" + "1122334455667788" + "00000000000000ab" + "0102030405060708" + String(repeating: "0", count: 32)
            + "0000000000000a0b" + "deadbeef" + "0000000000000001" + "0000000000000002" + "0000000000000003" + "0000000000000004"
        #expect(hex(bytes) == expected)
    }

    /// Flags bits 1 and 2 (structured, merging) were additions to version 2 (kept in 3).
    @Test func structuredAndMergingFlagsGolden() throws {
        var h = header(overlay: 0xAB)
        h.structured = true
        h.merging = true
        let bytes = codec.encode(Message(header: h, body: .ping))
        #expect(hex(bytes) == "030107" + "1122334455667788" + "00000000000000ab" + "0102030405060708" + String(repeating: "0", count: 32)
            + "0000000000000a0b" + "deadbeef")
        #expect(try codec.decode(bytes).header == h)
        var onlyStructured = h
        onlyStructured.merging = false
        #expect(codec.encode(Message(header: onlyStructured, body: .ping))[2] == 0x03)
    }

    @Test func nodesGolden() {
        let c = Contact(id: NodeID(w0: 0, w1: 0, w2: 0, w3: 9), endpoint: Endpoint(ipv4: 127, 0, 0, 1, port: 4000))
        let bytes = codec.encode(Message(header: header(), body: .nodes([c])))
        #expect(hex(Array(bytes.suffix(40))) == "01" + String(repeating: "0", count: 62) + "09" + "04" + "7f000001" + "0fa0")
    }

    @Test func storeGoldenCarriesTheValueID() {
        let record = Record(
            key: RecordKey(point: NodeID(w0: 5, w1: 0, w2: 0, w3: 0)), owner: NodeID(w0: 6, w1: 0, w2: 0, w3: 0), valueID: 0x0102_0304_0506_0708,
            publicKey: [UInt8](repeating: 0xAA, count: 32), sequence: 9, ttl: 600, issuedAt: 0x6930_0000, isTombstone: true, payload: [0x7A],
            signature: [UInt8](repeating: 0xBB, count: 64))
        let bytes = codec.encode(Message(header: header(), body: .store(RecordCopy(record: record, remaining: 300))))
        let body = hex(Array(bytes.dropFirst(WireCodec.encodedSize(Message(header: header(), body: .ping)))))
        let zeros = String(repeating: "0", count: 48)
        #expect(body == "0000000000000005" + zeros + "0000000000000006" + zeros + "0102030405060708"
            + String(repeating: "aa", count: 32) + "0000000000000009" + "00000258" + "0000000069300000" + "01" + "0001" + "7a"
            + String(repeating: "bb", count: 64) + "0000012c")
        #expect(bytes.count == WireCodec.encodedSize(Message(header: header(), body: .store(RecordCopy(record: record, remaining: 300)))))
    }

    @Test func theSignatureCoversTheValueID() {
        let identity = Fixtures.identity(3)
        var record = identity.record(key: RecordKey(point: .zero), valueID: 1, sequence: 1, ttl: 10, payload: [1])
        #expect(Ed25519Verifier().check(record) == nil)
        record.valueID = 2  // moved to another slot after signing
        #expect(Ed25519Verifier().check(record) == .badSignature)
    }

    // MARK: round trips

    @Test func everyMessageRoundTrips() async {
        await propertyCheck(count: 500, input: Gen.uint64(in: 0 ... .max)) { seed in
            let message = Fixtures.randomMessage(seed: seed)
            let bytes = WireCodec(limits: Self.roomy).encode(message)
            #expect(bytes.count == WireCodec.encodedSize(message))
            #expect((try? WireCodec(limits: Self.roomy).decode(bytes)) == message)
        }
    }

    static var roomy: Limits {
        var l = Limits()
        l.maxFrameBytes = 65_535
        return l
    }

    /// Decoding is total and strict: arbitrary bytes never crash it, and whatever it
    /// accepts re-encodes to exactly the same bytes.
    @Test func arbitraryBytesDecodeToACanonicalMessageOrAReason() async {
        await propertyCheck(count: 2_000, input: Gen.uint8(in: 0...255).array(of: 0...120)) { bytes in
            var frame = bytes
            if frame.count > 2 { frame[0] = MessageHeader.currentVersion; frame[1] = frame[1] % 12; frame[2] &= 1 }
            if let message = try? codec.decode(frame) {
                #expect(codec.encode(message) == frame)
            }
        }
    }

    @Test func everyPrefixOfAValidFrameIsRejectedAsTruncated() {
        for seed in UInt64(0)..<50 {
            let bytes = WireCodec(limits: Self.roomy).encode(Fixtures.randomMessage(seed: seed))
            guard bytes.count <= codec.limits.maxFrameBytes else { continue }
            for cut in 0..<bytes.count {
                #expect(throws: WireRejection.self) { try codec.decode(Array(bytes.prefix(cut))) }
            }
        }
    }

    // MARK: rejections

    func rejection(_ bytes: [UInt8], limits: Limits = .default) -> WireRejection? {
        do {
            _ = try WireCodec(limits: limits).decode(bytes)
            return nil
        } catch {
            return error
        }
    }

    var ping: [UInt8] { codec.encode(Message(header: header(), body: .ping)) }

    @Test func rejectsEachMalformation() {
        #expect(rejection(ping + [0]) == .trailingBytes)
        #expect(rejection(Array(ping.dropLast())) == .truncated)
        #expect(rejection([]) == .truncated)
        var v = ping; v[0] = 1
        #expect(rejection(v) == .unsupportedVersion(1), "version 1 records had no value id")
        var k = ping; k[1] = 99
        #expect(rejection(k) == .unknownKind(99))
        var f = ping; f[2] = 0x80
        #expect(rejection(f) == .unknownFlags(0x80))
        var g = ping; g[2] = 0x10
        #expect(rejection(g) == .unknownFlags(0x10), "the next free bit is not yet known")
        #expect(rejection([UInt8](repeating: 1, count: Limits.default.maxFrameBytes + 1)) == .frameTooLarge)
        #expect(WireRejection.frameTooLarge.reason == "frame_too_large")
    }

    @Test func rejectsCountsAndLengthsBeyondTheLimitsBeforeReadingThem() {
        var limits = Limits()
        limits.maxContactsPerMessage = 2
        let contacts = (0..<3).map { Contact(id: NodeID(w0: UInt64($0), w1: 0, w2: 0, w3: 0), endpoint: Endpoint(ipv4: 1, 2, 3, 4, port: 5)) }
        #expect(rejection(codec.encode(Message(header: header(), body: .nodes(contacts))), limits: limits) == .tooManyContacts)
        // A count claiming more contacts than the bytes left is refused up front.
        #expect(rejection(codec.encode(Message(header: header(), body: .nodes([]))).dropLast() + [20]) == .truncated)

        var c = codec.encode(Message(header: header(), body: .nodes([contacts[0]])))
        c[WireCodec.encodedSize(Message(header: header(), body: .nodes([]))) + 32] = 5  // address family
        #expect(rejection(c) == .unknownAddressFamily(5))

        let identity = Fixtures.identity(3)
        let r = identity.record(key: RecordKey(point: .zero), sequence: 1, ttl: 10, payload: [UInt8](repeating: 7, count: 20))
        var small = Limits()
        small.maxPayloadBytes = 19
        #expect(rejection(codec.encode(Message(header: header(), body: .store(RecordCopy(record: r, remaining: 5)))), limits: small) == .payloadTooLarge)
        var few = Limits()
        few.maxRecordsPerMessage = 1
        let two = Message(header: header(), body: .values(records: [RecordCopy(record: r, remaining: 5), RecordCopy(record: r, remaining: 5)], more: false, closer: []))
        #expect(rejection(codec.encode(two), limits: few) == .tooManyRecords)
    }

    @Test func rejectsFieldValuesTheFormatDoesNotAllow() {
        let identity = Fixtures.identity(3)
        let r = identity.record(key: RecordKey(point: .zero), sequence: 1, ttl: 10, payload: [])
        // remaining above the signed ttl
        var store = codec.encode(Message(header: header(), body: .store(RecordCopy(record: r, remaining: 10))))
        store[store.count - 1] = 11
        #expect(rejection(store) == .invalidField)
        // a boolean that is neither 0 nor 1
        var values = codec.encode(Message(header: header(), body: .values(records: [], more: false, closer: [])))
        values[WireCodec.encodedSize(Message(header: header(), body: .ping))] = 2
        #expect(rejection(values) == .invalidField)
        // a rejection code that does not exist
        var stored = codec.encode(Message(header: header(), body: .stored(nil)))
        stored[stored.count - 1] = 200
        #expect(rejection(stored) == .invalidField)
        // unknown record flags
        var flags = codec.encode(Message(header: header(), body: .store(RecordCopy(record: r, remaining: 1))))
        flags[WireCodec.encodedSize(Message(header: header(), body: .ping)) + 32 * 3 + 8 + 8 + 4 + 8] = 0x02
        #expect(rejection(flags) == .unknownFlags(2))
    }
}

/// The id-only republish (`refresh`, `refreshed`): layout, limits and reasons.
@Suite struct RefreshCodecTests {
    let codec = WireCodec()
    let header = MessageHeader(network: NetworkID(rawValue: 0x1122_3344_5566_7788), sender: NodeID(w0: 1, w1: 0, w2: 0, w3: 2), transaction: 7)

    func hex(_ bytes: [UInt8]) -> String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
    var bodyStart: Int { WireCodec.encodedSize(Message(header: header, body: .ping)) }

    func rejection(_ bytes: [UInt8], limits: Limits = .default) -> WireRejection? {
        do { _ = try WireCodec(limits: limits).decode(bytes); return nil } catch { return error }
    }

    @Test func refreshGoldenNamesKeyValueIDsAndSequences() throws {
        let key = RecordKey(point: NodeID(w0: 5, w1: 0, w2: 0, w3: 0))
        let m = Message(header: header, body: .refresh(key: key, versions: [ValueVersion(valueID: 0x0102, sequence: 9)]))
        let bytes = codec.encode(m)
        #expect(hex(Array(bytes.dropFirst(bodyStart))) == "0000000000000005" + String(repeating: "0", count: 48) + "01" + "0000000000000102" + "0000000000000009")
        #expect(bytes.count == WireCodec.encodedSize(m))
        #expect(MessageKind.refresh.rawValue == 12 && MessageKind.refreshed.rawValue == 13)
        #expect(try codec.decode(bytes) == m)
        // The whole refresh of one value is a fraction of the record it stands for.
        #expect(bytes.count + 28 < 160)
    }

    @Test func refreshedGoldenListsTheUnknownValueIDs() throws {
        let m = Message(header: header, body: .refreshed(unknown: [3, 0xFFFF_FFFF_FFFF_FFFF]))
        let bytes = codec.encode(m)
        #expect(hex(Array(bytes.dropFirst(bodyStart))) == "02" + "0000000000000003" + "ffffffffffffffff")
        #expect(try codec.decode(bytes) == m)
        let none = Message(header: header, body: .refreshed(unknown: []))
        #expect(try codec.decode(codec.encode(none)) == none)
        #expect(!MessageBody.refresh(key: RecordKey(point: .zero), versions: []).isResponse && MessageBody.refreshed(unknown: []).isResponse)
    }

    @Test func refreshRejectsAnEmptyListTooManyVersionsAndShortFrames() {
        let key = RecordKey(point: .zero)
        var empty = codec.encode(Message(header: header, body: .refresh(key: key, versions: [ValueVersion(valueID: 1, sequence: 1)])))
        empty = Array(empty.prefix(bodyStart + 32)) + [0]
        #expect(rejection(empty) == .invalidField)
        var few = Limits()
        few.maxVersionsPerMessage = 2
        let three = (0..<3).map { ValueVersion(valueID: UInt64($0), sequence: 1) }
        #expect(rejection(codec.encode(Message(header: header, body: .refresh(key: key, versions: three))), limits: few) == .tooManyVersions)
        #expect(rejection(codec.encode(Message(header: header, body: .refreshed(unknown: [1, 2, 3]))), limits: few) == .tooManyVersions)
        #expect(WireRejection.tooManyVersions.reason == "too_many_versions")
        // A count claiming more than the bytes left is refused before anything is read.
        let one = codec.encode(Message(header: header, body: .refresh(key: key, versions: [ValueVersion(valueID: 1, sequence: 1)])))
        var claims = one
        claims[bodyStart + 32] = 3
        #expect(rejection(claims) == .truncated)
        for cut in 0..<one.count { #expect(rejection(Array(one.prefix(cut))) != nil) }
        #expect(rejection(one + [0]) == .trailingBytes)
    }

    @Test func probeAndHeldGoldenAndLimits() throws {
        let key = RecordKey(point: NodeID(w0: 5, w1: 0, w2: 0, w3: 0))
        let owner = NodeID(w0: 0, w1: 0, w2: 0, w3: 6)
        let probe = Message(header: header, body: .probe(key: key, slots: [SlotVersion(slot: RecordSlot(owner: owner, valueID: 2), sequence: 3)]))
        let bytes = codec.encode(probe)
        #expect(hex(Array(bytes.dropFirst(bodyStart))) == "0000000000000005" + String(repeating: "0", count: 48) + "01"
            + String(repeating: "0", count: 62) + "06" + "0000000000000002" + "0000000000000003")
        #expect(bytes.count == WireCodec.encodedSize(probe) && MessageKind.probe.rawValue == 14 && MessageKind.held.rawValue == 15)
        #expect(try codec.decode(bytes) == probe)
        let held = Message(header: header, body: .held(remaining: [300, 0]))
        #expect(hex(Array(codec.encode(held).dropFirst(bodyStart))) == "02" + "0000012c" + "00000000")
        #expect(try codec.decode(codec.encode(held)) == held)
        #expect(MessageBody.held(remaining: []).isResponse && !probe.body.isResponse)
        var empty = bytes
        empty = Array(empty.prefix(bodyStart + 32)) + [0]
        #expect(rejection(empty) == .invalidField)
        var few = Limits()
        few.maxVersionsPerMessage = 1
        let two = Message(header: header, body: .probe(key: key, slots: Array(repeating: SlotVersion(slot: RecordSlot(owner: owner, valueID: 2), sequence: 3), count: 2)))
        #expect(rejection(codec.encode(two), limits: few) == .tooManyVersions)
        #expect(rejection(codec.encode(Message(header: header, body: .held(remaining: [1, 2]))), limits: few) == .tooManyVersions)
        for cut in 0..<bytes.count { #expect(rejection(Array(bytes.prefix(cut))) != nil) }
        var claims = bytes
        claims[bodyStart + 32] = 2
        #expect(rejection(claims) == .truncated)
    }

    @Test func aKeyedCodecTagsAndChecksRefreshesLikeEveryFrame() throws {
        let key = NetworkKey(secret: Array("correct horse battery staple".utf8), network: header.network)!
        let keyed = WireCodec(key: key)
        let m = Message(header: header, body: .refresh(key: RecordKey(point: .zero), versions: [ValueVersion(valueID: 1, sequence: 2)]))
        let bytes = keyed.encode(m)
        #expect(bytes.count == WireCodec.encodedSize(m) + NetworkKey.tagBytes)
        #expect(try keyed.decode(bytes) == m)
        #expect(rejection(codec.encode(m)) == nil)
        do { _ = try keyed.decode(codec.encode(m)); Issue.record("untagged refresh admitted") } catch { #expect(error == .missingTag) }
        var altered = bytes
        altered[bodyStart + 40] ^= 1
        do { _ = try keyed.decode(altered); Issue.record("altered refresh admitted") } catch { #expect(error == .badTag) }
    }
}

/// Admission: frames tagged with the network key (`NetworkKey`, `WireCodec.key`).
@Suite struct WireCodecAdmissionTests {
    let network = NetworkID(rawValue: 0x1122_3344_5566_7788)
    var key: NetworkKey { NetworkKey(secret: Array("correct horse battery staple".utf8), network: network)! }
    var keyed: WireCodec { WireCodec(key: key) }

    func message(_ body: MessageBody = .ping) -> Message {
        Message(header: MessageHeader(network: network, sender: NodeID(w0: 7, w1: 0, w2: 0, w3: 1), transaction: 9), body: body)
    }

    func rejection(_ codec: WireCodec, _ frame: [UInt8]) -> WireRejection? {
        do { _ = try codec.decode(frame); return nil } catch { return error }
    }

    @Test func aTaggedFrameRoundTripsAndIsSixteenBytesLonger() throws {
        for seed in 0..<200 as Range<UInt64> {
            let m = Fixtures.randomMessage(seed: seed)
            let bytes = keyed.encode(m)
            #expect(bytes.count == WireCodec.encodedSize(m) + NetworkKey.tagBytes)
            #expect(bytes.count == keyed.encodedSize(m))
            #expect(try keyed.decode(bytes) == m)
        }
    }

    @Test func aKeyedCodecRefusesUntaggedForeignAndAlteredFrames() {
        #expect(rejection(keyed, WireCodec().encode(message())) == .missingTag)
        let stranger = WireCodec(key: NetworkKey(secret: Array("a guess at the secret".utf8), network: network)!)
        #expect(rejection(keyed, stranger.encode(message())) == .badTag)
        // The same secret under another network name is another key.
        let otherNetwork = WireCodec(key: NetworkKey(secret: Array("correct horse battery staple".utf8), network: NetworkID(rawValue: 1))!)
        #expect(rejection(keyed, otherNetwork.encode(message())) == .badTag)
        // Any altered byte after the flags, tag included, breaks the tag.
        let good = keyed.encode(message(.findNode(target: NodeID(w0: 1, w1: 2, w2: 3, w3: 4))))
        for i in 3..<good.count {
            var bad = good
            bad[i] ^= 0x01
            #expect(rejection(keyed, bad) == .badTag, "byte \(i)")
        }
        // A tag glued onto an untagged frame by someone who set the flag is still refused.
        var flagged = WireCodec().encode(message())
        flagged[2] |= 0x08
        #expect(rejection(keyed, flagged + [UInt8](repeating: 0, count: NetworkKey.tagBytes)) == .badTag)
        #expect(rejection(keyed, Array(good.prefix(10))) == .badTag)
    }

    @Test func anOpenCodecRefusesTaggedFrames() {
        #expect(rejection(WireCodec(), keyed.encode(message())) == .unexpectedTag)
        #expect(WireRejection.unexpectedTag.reason == "unexpected_tag")
    }

    @Test func aSecretShorterThanSixteenBytesIsNoKey() {
        #expect(NetworkKey(secret: Array("fifteen bytes!!".utf8), network: network) == nil)
        #expect(NetworkKey(secret: Array("sixteen bytes!!!".utf8), network: network) != nil)
    }

    @Test func everyTruncationOfATaggedFrameIsRefused() {
        let bytes = keyed.encode(message(.values(records: [], more: false, closer: [])))
        for length in 0..<bytes.count { #expect(rejection(keyed, Array(bytes.prefix(length))) != nil) }
    }
}
