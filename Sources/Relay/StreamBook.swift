import Primitives

/// The open streams of one side of the relay and what they carried: the bookkeeping both
/// `ExportGate` (exporting side) and the importing side's `RelayImporter` share. A value.
///
/// Invariants: a stream is counted against its peer and its service from `add` until
/// `release`, exactly once; `report.services[s].open` is the number of open streams of `s`.
public struct StreamBook: Sendable {
    /// An open stream: the other leader it runs to or from, and the service it carries.
    public struct Stream: Hashable, Sendable {
        public var peer: NodeID
        public var service: ServiceRef
    }

    public private(set) var report = RelayReport()
    public private(set) var open: [StreamID: Stream] = [:]
    private var perPeer: [NodeID: Int] = [:]
    private var perService: [ServiceRef: Int] = [:]
    private var nextID: UInt64 = 1

    public init() {}

    public func count(peer: NodeID) -> Int { perPeer[peer, default: 0] }
    public func count(service: ServiceRef) -> Int { perService[service, default: 0] }

    /// Opens a stream and counts it.
    public mutating func add(peer: NodeID, service: ServiceRef) -> StreamID {
        let id = StreamID(rawValue: nextID)
        nextID += 1
        open[id] = Stream(peer: peer, service: service)
        perPeer[peer, default: 0] += 1
        perService[service, default: 0] += 1
        report.services[service, default: ServiceTraffic()].streams += 1
        report.services[service, default: ServiceTraffic()].open += 1
        return id
    }

    /// Counts a refusal that no stream stands for.
    public mutating func refuse(_ reason: RelayRefusal) {
        report.refusals[reason, default: 0] += 1
    }

    /// A stream that was added could not be set up: it frees its slots and counts as a
    /// refusal with `reason`, not as a stream.
    public mutating func failed(_ id: StreamID, _ reason: RelayRefusal) {
        guard let stream = release(id) else { return }
        report.services[stream.service]?.streams -= 1
        refuse(reason)
    }

    /// A stream ended, having moved these bytes. A stream already released (closed by
    /// `close(matching:)`) only adds its bytes.
    public mutating func ended(_ id: StreamID, service: ServiceRef, _ ending: StreamEnding, bytes: ByteCounts) {
        report.services[service, default: ServiceTraffic()].bytesToService += bytes.toService
        report.services[service, default: ServiceTraffic()].bytesFromService += bytes.fromService
        guard release(id) != nil else { return }
        report.endings[ending, default: 0] += 1
    }

    /// Releases every open stream whose service matches as ended by `ending`, and returns
    /// their ids for the adapter to close.
    public mutating func close(as ending: StreamEnding, where matches: (ServiceRef) -> Bool) -> [StreamID] {
        let closing = open.filter { matches($0.value.service) }.map(\.key).sorted()
        for id in closing {
            release(id)
            report.endings[ending, default: 0] += 1
        }
        return closing
    }

    @discardableResult
    private mutating func release(_ id: StreamID) -> Stream? {
        guard let stream = open.removeValue(forKey: id) else { return nil }
        perPeer[stream.peer]! -= 1
        if perPeer[stream.peer] == 0 { perPeer[stream.peer] = nil }
        perService[stream.service]! -= 1
        if perService[stream.service] == 0 { perService[stream.service] = nil }
        report.services[stream.service]?.open -= 1
        return stream
    }
}

/// Names one relayed stream on the side that tracks it; never reused within a process.
public struct StreamID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "#\(rawValue)" }
}

/// Bytes one stream carried, by direction.
public struct ByteCounts: Hashable, Sendable {
    public var toService: UInt64
    public var fromService: UInt64
    public init(toService: UInt64 = 0, fromService: UInt64 = 0) {
        self.toService = toService
        self.fromService = fromService
    }
}
