import Primitives

/// The versioned binary format of `Message` (layout in `MessageHeader`'s doc comment and
/// below). Strict and total: a frame decodes to exactly one message or is rejected with a
/// `WireRejection`; counts and lengths are checked against `Limits` (and against the bytes
/// left) before anything is allocated; trailing bytes are an error.
///
/// Bodies (big-endian):
/// - contact: `id 32 | family u8 (4 or 6) | address 4 or 16 | port u16`
/// - record copy: `key 32 | owner 32 | value id u64 | public key 32 | sequence u64 |
///   ttl u32 | issued at u64 | flags u8 (bit 0 tombstone) | payload length u16 | payload |
///   signature 64 | remaining u32`
/// - `findNode`: target 32; `nodes`: count u8, contacts
/// - `findValue`: key 32, offset u16; `values`: more u8, record count u8, records,
///   contact count u8, contacts
/// - `store`, `notify`: one record copy; `stored`: code u8 (0 accepted, else a
///   `RecordRejection` raw value)
/// - `subscribe`: key 32, lease u32; `subscribed`: lease u32; `ping`, `pong`: empty
/// - `refresh`: key 32, count u8 (1 to `maxVersionsPerMessage`), count × (value id u64,
///   sequence u64); `refreshed`: count u8 (at most `maxVersionsPerMessage`), count × value id u64
/// - `probe`: key 32, count u8 (1 to `maxVersionsPerMessage`), count × (owner 32, value id
///   u64, sequence u64); `held`: count u8 (at most `maxVersionsPerMessage`), count × remaining u32
///
/// Admission: a codec with a `NetworkKey` sets flags bit 3 and appends a 16-byte tag
/// (`NetworkKey.tag`, over every byte before it) to each frame, and refuses a frame
/// without a valid one (`missingTag`, `badTag`) before reading anything past the flags. A
/// codec without a key (open mode) refuses tagged frames (`unexpectedTag`): an open node
/// cannot check them, and mixing the two modes in one network is a mistake to show, not
/// to paper over.
public struct WireCodec: Sendable {
    public var limits: Limits
    /// The network's key (`NetworkKey`); nil in open mode.
    public var key: (any DatagramAuthenticator)?

    public init(limits: Limits = .default, key: (any DatagramAuthenticator)? = nil) {
        self.limits = limits
        self.key = key
    }

    static let headerBytes = 3 + 8 + 32 + 4
    static let overlayFlag: UInt8 = 0x01
    static let structuredFlag: UInt8 = 0x02
    static let mergingFlag: UInt8 = 0x04
    static let taggedFlag: UInt8 = 0x08
    static let knownFlags = overlayFlag | structuredFlag | mergingFlag | taggedFlag
    static let minimumContactBytes = 32 + 1 + 4 + 2
    static let recordFixedBytes = 32 + 32 + 8 + 32 + 8 + 4 + 8 + 1 + 2 + 64 + 4

    typealias Reader = ByteReader<WireRejection>

    // MARK: encoding

    public func encode(_ message: Message) -> [UInt8] {
        var w = ByteWriter(capacity: Self.encodedSize(message))
        let h = message.header
        w.u8(MessageHeader.currentVersion)
        w.u8(message.body.kind.rawValue)
        w.u8((h.overlay == nil ? 0 : Self.overlayFlag) | (h.structured ? Self.structuredFlag : 0) | (h.merging ? Self.mergingFlag : 0)
            | (key == nil ? 0 : Self.taggedFlag))
        w.u64(h.network.rawValue)
        if let overlay = h.overlay { w.u64(overlay) }
        w.id(h.sender)
        w.u32(h.transaction)
        switch message.body {
        case .ping, .pong:
            break
        case .findNode(let target):
            w.id(target)
        case .nodes(let contacts):
            Self.write(contacts, to: &w)
        case .findValue(let key, let offset):
            w.id(key.point)
            w.u16(offset)
        case .values(let records, let more, let closer):
            w.u8(more ? 1 : 0)
            w.u8(UInt8(records.count))
            for r in records { Self.write(r, to: &w) }
            Self.write(closer, to: &w)
        case .store(let copy), .notify(let copy):
            Self.write(copy, to: &w)
        case .stored(let rejection):
            w.u8(rejection?.rawValue ?? 0)
        case .subscribe(let key, let lease):
            w.id(key.point)
            w.u32(lease)
        case .subscribed(let lease):
            w.u32(lease)
        case .refresh(let key, let versions):
            w.id(key.point)
            w.u8(UInt8(truncatingIfNeeded: versions.count))
            for v in versions {
                w.u64(v.valueID)
                w.u64(v.sequence)
            }
        case .refreshed(let unknown):
            w.u8(UInt8(truncatingIfNeeded: unknown.count))
            for id in unknown { w.u64(id) }
        case .probe(let key, let slots):
            w.id(key.point)
            w.u8(UInt8(truncatingIfNeeded: slots.count))
            for v in slots {
                w.id(v.slot.owner)
                w.u64(v.slot.valueID)
                w.u64(v.sequence)
            }
        case .held(let remaining):
            w.u8(UInt8(truncatingIfNeeded: remaining.count))
            for r in remaining { w.u32(r) }
        }
        if let key { w.bytes(key.tag(w.buffer, for: .frame)) }
        return w.buffer
    }

    /// The size `encode` produces with this codec's key (a tag adds `tagBytes`).
    public func encodedSize(_ message: Message) -> Int {
        Self.encodedSize(message) + (key?.tagBytes ?? 0)
    }

    /// The size an open codec's `encode` produces, computed without encoding (the simulator counts bytes
    /// with it, and responses are packed to fit `Limits.maxFrameBytes` with it).
    public static func encodedSize(_ message: Message) -> Int {
        headerBytes + (message.header.overlay == nil ? 0 : 8) + bodySize(message.body)
    }

    static func bodySize(_ body: MessageBody) -> Int {
        switch body {
        case .ping, .pong: 0
        case .findNode: 32
        case .nodes(let c): 1 + c.reduce(0) { $0 + size(of: $1) }
        case .findValue: 34
        case .values(let r, _, let c): 3 + r.reduce(0) { $0 + size(of: $1) } + c.reduce(0) { $0 + size(of: $1) }
        case .store(let r), .notify(let r): size(of: r)
        case .stored: 1
        case .subscribe: 36
        case .subscribed: 4
        case .refresh(_, let v): 33 + 16 * v.count
        case .refreshed(let u): 1 + 8 * u.count
        case .probe(_, let v): 33 + 48 * v.count
        case .held(let r): 1 + 4 * r.count
        }
    }

    public static func size(of contact: Contact) -> Int {
        switch contact.endpoint.address {
        case .v4: 32 + 1 + 4 + 2
        case .v6: 32 + 1 + 16 + 2
        }
    }

    public static func size(of copy: RecordCopy) -> Int { recordFixedBytes + copy.record.payload.count }

    static func write(_ contacts: [Contact], to w: inout ByteWriter) {
        w.u8(UInt8(contacts.count))
        for c in contacts {
            w.id(c.id)
            switch c.endpoint.address {
            case .v4(let a):
                w.u8(4)
                w.u32(a)
            case .v6(let hi, let lo):
                w.u8(6)
                w.u64(hi)
                w.u64(lo)
            }
            w.u16(c.endpoint.port)
        }
    }

    static func write(_ copy: RecordCopy, to w: inout ByteWriter) {
        let r = copy.record
        precondition(r.publicKey.count == 32 && r.signature.count == 64, "records carry a 32-byte key and a 64-byte signature")
        w.id(r.key.point)
        w.id(r.owner)
        w.u64(r.valueID)
        w.bytes(r.publicKey)
        w.u64(r.sequence)
        w.u32(r.ttl)
        w.u64(r.issuedAt)
        w.u8(r.isTombstone ? 1 : 0)
        w.u16(UInt16(r.payload.count))
        w.bytes(r.payload)
        w.bytes(r.signature)
        w.u32(copy.remaining)
    }

    // MARK: decoding

    public func decode(_ frame: [UInt8]) throws(WireRejection) -> Message {
        guard frame.count <= limits.maxFrameBytes else { throw .frameTooLarge }
        var r = Reader(try admitted(frame))
        let version = try r.u8()
        guard version == MessageHeader.currentVersion else { throw .unsupportedVersion(version) }
        let kindCode = try r.u8()
        guard let kind = MessageKind(rawValue: kindCode) else { throw .unknownKind(kindCode) }
        let flags = try r.u8()
        guard flags & ~Self.knownFlags == 0 else { throw .unknownFlags(flags) }
        let network = NetworkID(rawValue: try r.u64())
        let overlay: UInt64? = flags & Self.overlayFlag != 0 ? try r.u64() : nil
        let sender = try r.id()
        let transaction = try r.u32()
        let header = MessageHeader(
            network: network, overlay: overlay, structured: flags & Self.structuredFlag != 0, merging: flags & Self.mergingFlag != 0,
            sender: sender, transaction: transaction)

        let body: MessageBody
        switch kind {
        case .ping: body = .ping
        case .pong: body = .pong
        case .findNode: body = .findNode(target: try r.id())
        case .nodes: body = .nodes(try readContacts(&r))
        case .findValue: body = .findValue(key: RecordKey(point: try r.id()), offset: try r.u16())
        case .values:
            let more = try readBool(&r)
            let count = Int(try r.u8())
            guard count <= limits.maxRecordsPerMessage else { throw .tooManyRecords }
            try r.need(count * Self.recordFixedBytes)
            var records: [RecordCopy] = []
            records.reserveCapacity(count)
            for _ in 0..<count { records.append(try readRecord(&r)) }
            body = .values(records: records, more: more, closer: try readContacts(&r))
        case .store: body = .store(try readRecord(&r))
        case .notify: body = .notify(try readRecord(&r))
        case .stored:
            let code = try r.u8()
            if code == 0 {
                body = .stored(nil)
            } else {
                guard let rejection = RecordRejection(rawValue: code) else { throw .invalidField }
                body = .stored(rejection)
            }
        case .subscribe: body = .subscribe(key: RecordKey(point: try r.id()), lease: try r.u32())
        case .subscribed: body = .subscribed(lease: try r.u32())
        case .refresh:
            let key = RecordKey(point: try r.id())
            let count = Int(try r.u8())
            guard count > 0 else { throw .invalidField }
            guard count <= limits.maxVersionsPerMessage else { throw .tooManyVersions }
            try r.need(count * 16)
            var versions: [ValueVersion] = []
            versions.reserveCapacity(count)
            for _ in 0..<count { versions.append(ValueVersion(valueID: try r.u64(), sequence: try r.u64())) }
            body = .refresh(key: key, versions: versions)
        case .refreshed:
            let count = Int(try r.u8())
            guard count <= limits.maxVersionsPerMessage else { throw .tooManyVersions }
            try r.need(count * 8)
            var unknown: [UInt64] = []
            unknown.reserveCapacity(count)
            for _ in 0..<count { unknown.append(try r.u64()) }
            body = .refreshed(unknown: unknown)
        case .probe:
            let key = RecordKey(point: try r.id())
            let count = Int(try r.u8())
            guard count > 0 else { throw .invalidField }
            guard count <= limits.maxVersionsPerMessage else { throw .tooManyVersions }
            try r.need(count * 48)
            var slots: [SlotVersion] = []
            slots.reserveCapacity(count)
            for _ in 0..<count {
                let owner = try r.id()
                slots.append(SlotVersion(slot: RecordSlot(owner: owner, valueID: try r.u64()), sequence: try r.u64()))
            }
            body = .probe(key: key, slots: slots)
        case .held:
            let count = Int(try r.u8())
            guard count <= limits.maxVersionsPerMessage else { throw .tooManyVersions }
            try r.need(count * 4)
            var remaining: [UInt32] = []
            remaining.reserveCapacity(count)
            for _ in 0..<count { remaining.append(try r.u32()) }
            body = .held(remaining: remaining)
        }
        try r.expectEnd()
        return Message(header: header, body: body)
    }

    /// The frame without its tag once the tag checks out (or, open, when it has none).
    private func admitted(_ frame: [UInt8]) throws(WireRejection) -> [UInt8] {
        // The version first: a frame of another version may lay out its flags differently.
        if let version = frame.first, version != MessageHeader.currentVersion { throw .unsupportedVersion(version) }
        guard frame.count >= 3 else { throw .truncated }
        let tagged = frame[2] & Self.taggedFlag != 0
        guard let key else {
            guard !tagged else { throw .unexpectedTag }
            return frame
        }
        guard tagged else { throw .missingTag }
        guard key.verify(frame, for: .frame) else { throw .badTag }
        return Array(frame.dropLast(key.tagBytes))
    }

    private func readBool(_ r: inout Reader) throws(WireRejection) -> Bool {
        switch try r.u8() {
        case 0: return false
        case 1: return true
        default: throw .invalidField
        }
    }

    private func readContacts(_ r: inout Reader) throws(WireRejection) -> [Contact] {
        let count = Int(try r.u8())
        guard count <= limits.maxContactsPerMessage else { throw .tooManyContacts }
        try r.need(count * Self.minimumContactBytes)
        var contacts: [Contact] = []
        contacts.reserveCapacity(count)
        for _ in 0..<count {
            let id = try r.id()
            let family = try r.u8()
            let address: Endpoint.Address
            switch family {
            case 4: address = .v4(try r.u32())
            case 6: address = .v6(try r.u64(), try r.u64())
            default: throw .unknownAddressFamily(family)
            }
            contacts.append(Contact(id: id, endpoint: Endpoint(address: address, port: try r.u16())))
        }
        return contacts
    }

    private func readRecord(_ r: inout Reader) throws(WireRejection) -> RecordCopy {
        try r.need(Self.recordFixedBytes)
        let key = RecordKey(point: try r.id())
        let owner = try r.id()
        let valueID = try r.u64()
        let publicKey = try r.take(32)
        let sequence = try r.u64()
        let ttl = try r.u32()
        let issuedAt = try r.u64()
        let flags = try r.u8()
        guard flags & ~1 == 0 else { throw .unknownFlags(flags) }
        let length = Int(try r.u16())
        guard length <= limits.maxPayloadBytes else { throw .payloadTooLarge }
        let payload = try r.take(length)
        let signature = try r.take(64)
        let remaining = try r.u32()
        guard remaining <= ttl else { throw .invalidField }
        let record = Record(
            key: key, owner: owner, valueID: valueID, publicKey: publicKey, sequence: sequence, ttl: ttl, issuedAt: issuedAt,
            isTombstone: flags & 1 == 1, payload: payload, signature: signature)
        return RecordCopy(record: record, remaining: remaining)
    }
}
