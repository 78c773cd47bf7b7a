import Primitives
import Synchronization

/// The gateway's UDP socket as the island side sees it: heartbeats out, heartbeats in.
/// (The DHT shares the socket in the native engine; it takes its own frames.)
public protocol DatagramLink: Sendable {
    /// Sends without waiting; a datagram may be lost like any other.
    func send(_ bytes: [UInt8], to endpoint: Endpoint)
    /// Heartbeat datagrams received, with their source. One consumer.
    var heartbeats: AsyncStream<(bytes: [UInt8], from: Endpoint)> { get }
}

/// An in-memory network of `DatagramLink`s for tests: delivery is immediate and reliable
/// unless a pair is cut.
public final class MemoryDatagramNetwork: Sendable {
    private let links = Mutex<[Endpoint: AsyncStream<(bytes: [UInt8], from: Endpoint)>.Continuation]>([:])
    private let cuts = Mutex<Set<[Endpoint]>>([])

    public init() {}

    /// A link bound at `endpoint`.
    public func link(at endpoint: Endpoint) -> MemoryDatagramLink {
        let (stream, continuation) = AsyncStream.makeStream(of: (bytes: [UInt8], from: Endpoint).self)
        links.withLock { $0[endpoint] = continuation }
        return MemoryDatagramLink(network: self, endpoint: endpoint, heartbeats: stream)
    }

    /// Loses every datagram between the two endpoints (both ways) until `heal`.
    public func cut(_ a: Endpoint, _ b: Endpoint) { cuts.withLock { _ = $0.insert(Self.pair(a, b)) } }
    public func heal(_ a: Endpoint, _ b: Endpoint) { cuts.withLock { _ = $0.remove(Self.pair(a, b)) } }

    /// Closes a link (its process died): nothing reaches it any more.
    public func close(_ endpoint: Endpoint) { links.withLock { $0.removeValue(forKey: endpoint)?.finish() } }

    func deliver(_ bytes: [UInt8], from: Endpoint, to: Endpoint) {
        guard !cuts.withLock({ $0.contains(Self.pair(from, to)) }) else { return }
        _ = links.withLock { $0[to] }?.yield((bytes, from))
    }

    private static func pair(_ a: Endpoint, _ b: Endpoint) -> [Endpoint] {
        a.description < b.description ? [a, b] : [b, a]
    }
}

public struct MemoryDatagramLink: DatagramLink {
    let network: MemoryDatagramNetwork
    public let endpoint: Endpoint
    public let heartbeats: AsyncStream<(bytes: [UInt8], from: Endpoint)>

    public func send(_ bytes: [UInt8], to endpoint: Endpoint) {
        network.deliver(bytes, from: self.endpoint, to: endpoint)
    }
}
