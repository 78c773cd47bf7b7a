/// The records of an mDNS response that z2z reads, straight off the wire: the one walk of a
/// datagram that `MDNSGoodbyes` (instances saying goodbye), `MDNSTypes` (service types
/// named) and a router's upkeep of what it resolved (`Record`: SRV, TXT, A, AAAA) read from.
///
/// Avahi's client API reports neither goodbyes nor the types other responders answer for,
/// and no Swift DNS library parses mDNS wire format without pulling in a resolver, so this
/// small, total reader is written here: it reads only what it needs (header, questions
/// skipped, answer and authority records of class IN of those types), bounds every length
/// and every compression pointer, and refuses anything else with a reason. Additional
/// records are not read: an announcement carries its records as answers (RFC 6762 §8.3).
public enum MDNSResponse {
    public enum Rejection: Error, Hashable, Sendable, CustomStringConvertible {
        case truncated(at: Int)
        case notAResponse
        case badName(at: Int)
        case pointerLoop(at: Int)
        /// A record whose data does not fit its type (an A record of 5 bytes, say).
        case badRecordData(type: UInt16, at: Int)

        public var description: String {
            switch self {
            case .truncated(let offset): "message ends early at byte \(offset)"
            case .notAResponse: "a query, not a response"
            case .badName(let offset): "malformed name at byte \(offset)"
            case .pointerLoop(let offset): "compression pointers loop at byte \(offset)"
            case .badRecordData(let type, let offset): "record data of type \(type) malformed at byte \(offset)"
            }
        }
    }

    /// One PTR record: names as their labels, uninterpreted.
    public struct PTRRecord: Hashable, Sendable {
        public var owner: [[UInt8]]
        public var target: [[UInt8]]
        public var ttl: UInt32

        public init(owner: [[UInt8]], target: [[UInt8]], ttl: UInt32) {
            self.owner = owner
            self.target = target
            self.ttl = ttl
        }
    }

    /// A record that says what a service instance or a host is now: its SRV (port and
    /// target host), its TXT strings, or one of its addresses (A or AAAA).
    public struct Record: Hashable, Sendable {
        public enum Data: Hashable, Sendable {
            case srv(port: UInt16, target: [[UInt8]])
            case txt([[UInt8]])
            case address(IPAddress)
        }

        public var owner: [[UInt8]]
        public var ttl: UInt32
        public var data: Data

        public init(owner: [[UInt8]], ttl: UInt32, data: Data) {
            self.owner = owner
            self.ttl = ttl
            self.data = data
        }

        /// The instance an SRV or TXT record belongs to (`instance._name._proto.local`).
        public var serviceID: ServiceID? { MDNSGoodbyes.serviceID(owner) }

        /// The owner in the lowercase dotted form of `DomainName.canonical` (a host name for
        /// an address record).
        public var canonicalOwner: String { MDNSResponse.canonical(owner) }
    }

    /// Labels as the lowercase dotted text `DomainName.canonical` gives (ASCII case folded).
    public static func canonical(_ labels: [[UInt8]]) -> String {
        labels.map { String(decoding: $0.lowercasedASCII, as: UTF8.self) }.joined(separator: ".")
    }

    /// What one walk of a response found, each in the order it came.
    public struct Records: Hashable, Sendable {
        public var pointers: [PTRRecord] = []
        public var others: [Record] = []
    }

    static let typeA: UInt16 = 1
    static let typePTR: UInt16 = 12
    static let typeTXT: UInt16 = 16
    static let typeAAAA: UInt16 = 28
    static let typeSRV: UInt16 = 33
    static let classIN: UInt16 = 1

    /// The PTR records (class IN) of a response's answer and authority sections, in order.
    /// The whole of both sections is walked, so a message cut short anywhere there is refused.
    public static func ptrRecords(in datagram: [UInt8]) -> Result<[PTRRecord], Rejection> {
        records(in: datagram).map(\.pointers)
    }

    /// The PTR, SRV, TXT, A and AAAA records (class IN) of a response's answer and authority
    /// sections. The whole of both sections is walked, so a message cut short anywhere there,
    /// or a record of one of those types whose data does not fit it, is refused.
    public static func records(in datagram: [UInt8]) -> Result<Records, Rejection> {
        var reader = Reader(bytes: datagram)
        do {
            let flags = try reader.u16(at: 2)
            guard flags & 0x8000 != 0 else { return .failure(.notAResponse) }
            let questions = Int(try reader.u16(at: 4))
            let records = Int(try reader.u16(at: 6)) + Int(try reader.u16(at: 8))
            reader.offset = 12
            for _ in 0..<questions {
                _ = try reader.name()
                reader.offset += 4
            }
            var found = Records()
            for _ in 0..<records {
                let owner = try reader.name()
                let type = try reader.u16(at: reader.offset)
                let rrClass = try reader.u16(at: reader.offset + 2) & 0x7fff
                let ttl = UInt32(try reader.u16(at: reader.offset + 4)) << 16 | UInt32(try reader.u16(at: reader.offset + 6))
                let length = Int(try reader.u16(at: reader.offset + 8))
                let rdata = reader.offset + 10
                guard rdata + length <= datagram.count else { throw Rejection.truncated(at: datagram.count) }
                if rrClass == classIN {
                    var data = reader
                    data.offset = rdata
                    switch type {
                    case typePTR:
                        found.pointers.append(PTRRecord(owner: owner, target: try data.name(), ttl: ttl))
                    case typeSRV:
                        // Priority, weight, port, then the target (compression allowed, RFC 6762 §18.14).
                        guard length >= 7 else { throw Rejection.badRecordData(type: type, at: rdata) }
                        let port = try reader.u16(at: rdata + 4)
                        data.offset = rdata + 6
                        found.others.append(Record(owner: owner, ttl: ttl, data: .srv(port: port, target: try data.name())))
                    case typeTXT:
                        found.others.append(Record(owner: owner, ttl: ttl, data: .txt(try strings(datagram, rdata, length))))
                    case typeA, typeAAAA:
                        guard length == (type == typeA ? 4 : 16),
                              let address = try? IPAddress(bytes: Array(datagram[rdata..<(rdata + length)]))
                        else { throw Rejection.badRecordData(type: type, at: rdata) }
                        found.others.append(Record(owner: owner, ttl: ttl, data: .address(address)))
                    default:
                        break
                    }
                }
                reader.offset = rdata + length
            }
            return .success(found)
        } catch let rejection as Rejection {
            return .failure(rejection)
        } catch {
            return .failure(.truncated(at: reader.offset))
        }
    }

    /// TXT data: length-prefixed strings filling exactly `length` bytes from `start`.
    private static func strings(_ bytes: [UInt8], _ start: Int, _ length: Int) throws(Rejection) -> [[UInt8]] {
        var strings: [[UInt8]] = []
        var position = start
        let end = start + length
        while position < end {
            let next = position + 1 + Int(bytes[position])
            guard next <= end else { throw .badRecordData(type: typeTXT, at: position) }
            strings.append(Array(bytes[(position + 1)..<next]))
            position = next
        }
        return strings
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        func u16(at position: Int) throws(Rejection) -> UInt16 {
            guard position >= 0, position + 2 <= bytes.count else { throw .truncated(at: bytes.count) }
            return UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
        }

        /// Reads a name at `offset` (following compression pointers, at most as many as
        /// the message has bytes) and moves `offset` past it.
        mutating func name() throws(Rejection) -> [[UInt8]] {
            var labels: [[UInt8]] = []
            var position = offset
            var jumped = false
            var jumps = 0
            var total = 0
            while true {
                guard position < bytes.count else { throw .truncated(at: position) }
                let length = Int(bytes[position])
                if length == 0 {
                    if !jumped { offset = position + 1 }
                    return labels
                }
                switch length & 0xc0 {
                case 0xc0:
                    guard position + 1 < bytes.count else { throw .truncated(at: position) }
                    let target = (length & 0x3f) << 8 | Int(bytes[position + 1])
                    if !jumped { offset = position + 2 }
                    jumped = true
                    jumps += 1
                    guard jumps <= 64, target < bytes.count else { throw .pointerLoop(at: position) }
                    position = target
                case 0x00:
                    let end = position + 1 + length
                    guard end <= bytes.count else { throw .truncated(at: position) }
                    total += length + 1
                    guard total <= 255 else { throw .badName(at: position) }
                    labels.append(Array(bytes[(position + 1)..<end]))
                    position = end
                default:
                    throw .badName(at: position)
                }
            }
        }
    }
}

extension [UInt8] {
    var lowercasedASCII: [UInt8] { map { (0x41...0x5a).contains($0) ? $0 | 0x20 : $0 } }
}
