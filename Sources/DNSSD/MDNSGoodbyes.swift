/// Goodbyes in an mDNS response (RFC 6762 §10.1): PTR records with TTL 0, read straight
/// off the wire.
///
/// A responder that withdraws a service multicasts its records with TTL 0; receivers keep
/// them one more second. A gateway that waits for its own Avahi cache to let go exports
/// the withdrawal a second late, and the importing island's caches add their own second.
/// Reading the goodbye itself removes the first of those seconds. Avahi's client API does
/// not report goodbyes, and no Swift DNS library parses mDNS wire format without pulling in
/// a resolver, so this small, total reader is written here: it reads only what it needs
/// (header, questions skipped, answer and authority PTR records), bounds every length and
/// every compression pointer, and refuses anything else with a reason.
public enum MDNSGoodbyes {
    public enum Rejection: Error, Hashable, Sendable, CustomStringConvertible {
        case truncated(at: Int)
        case notAResponse
        case badName(at: Int)
        case pointerLoop(at: Int)

        public var description: String {
            switch self {
            case .truncated(let offset): "message ends early at byte \(offset)"
            case .notAResponse: "a query, not a response"
            case .badName(let offset): "malformed name at byte \(offset)"
            case .pointerLoop(let offset): "compression pointers loop at byte \(offset)"
            }
        }
    }

    static let typePTR: UInt16 = 12
    static let classIN: UInt16 = 1

    /// The service instances a datagram says goodbye to: the targets of its TTL-0 PTR
    /// records that name a DNS-SD instance (`instance._name._proto.local`). Records of other
    /// kinds, and goodbyes of other names, are skipped.
    public static func services(in datagram: [UInt8]) -> Result<[ServiceID], Rejection> {
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
            var goodbyes: [ServiceID] = []
            for _ in 0..<records {
                _ = try reader.name()
                let type = try reader.u16(at: reader.offset)
                let rrClass = try reader.u16(at: reader.offset + 2) & 0x7fff
                let ttl = UInt32(try reader.u16(at: reader.offset + 4)) << 16 | UInt32(try reader.u16(at: reader.offset + 6))
                let length = Int(try reader.u16(at: reader.offset + 8))
                let rdata = reader.offset + 10
                guard rdata + length <= datagram.count else { throw Rejection.truncated(at: datagram.count) }
                if type == typePTR, rrClass == classIN, ttl == 0 {
                    var target = reader
                    target.offset = rdata
                    if let id = serviceID(try target.name()) { goodbyes.append(id) }
                }
                reader.offset = rdata + length
            }
            return .success(goodbyes)
        } catch let rejection as Rejection {
            return .failure(rejection)
        } catch {
            return .failure(.truncated(at: reader.offset))
        }
    }

    /// `instance._name._proto.local` as a service id; nil for any other name.
    static func serviceID(_ labels: [[UInt8]]) -> ServiceID? {
        guard labels.count == 4, labels[3].lowercasedASCII == Array("local".utf8),
              let instance = try? InstanceName(bytes: labels[0]),
              let name = String(validating: labels[1], as: UTF8.self),
              let proto = String(validating: labels[2], as: UTF8.self),
              let type = try? ServiceType("\(name).\(proto)") else { return nil }
        return ServiceID(name: instance, type: type)
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
