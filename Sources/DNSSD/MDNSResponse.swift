/// The PTR records of an mDNS response, read straight off the wire: the one walk of a
/// datagram that `MDNSGoodbyes` (instances saying goodbye) and `MDNSTypes` (service types
/// named) read from.
///
/// Avahi's client API reports neither goodbyes nor the types other responders answer for,
/// and no Swift DNS library parses mDNS wire format without pulling in a resolver, so this
/// small, total reader is written here: it reads only what it needs (header, questions
/// skipped, answer and authority PTR records of class IN), bounds every length and every
/// compression pointer, and refuses anything else with a reason. Additional records are
/// not read: an announcement carries its PTR records as answers (RFC 6762 §8.3).
public enum MDNSResponse {
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

    static let typePTR: UInt16 = 12
    static let classIN: UInt16 = 1

    /// The PTR records (class IN) of a response's answer and authority sections, in order.
    /// The whole of both sections is walked, so a message cut short anywhere there is refused.
    public static func ptrRecords(in datagram: [UInt8]) -> Result<[PTRRecord], Rejection> {
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
            var found: [PTRRecord] = []
            for _ in 0..<records {
                let owner = try reader.name()
                let type = try reader.u16(at: reader.offset)
                let rrClass = try reader.u16(at: reader.offset + 2) & 0x7fff
                let ttl = UInt32(try reader.u16(at: reader.offset + 4)) << 16 | UInt32(try reader.u16(at: reader.offset + 6))
                let length = Int(try reader.u16(at: reader.offset + 8))
                let rdata = reader.offset + 10
                guard rdata + length <= datagram.count else { throw Rejection.truncated(at: datagram.count) }
                if type == typePTR, rrClass == classIN {
                    var target = reader
                    target.offset = rdata
                    found.append(PTRRecord(owner: owner, target: try target.name(), ttl: ttl))
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
