import DNSSD
import LocalDomain
import Synchronization
import Testing

/// What the wrapper passes on to the domain it wraps.
struct GoodbyeAwareDomainTests {
    /// A domain that only records the types it is told of.
    final class TypeRecorder: LocalDomain {
        let events: AsyncStream<LocalDomainEvent>
        private let continuation: AsyncStream<LocalDomainEvent>.Continuation
        let heard = Mutex<[ServiceType]>([])

        init() { (events, continuation) = AsyncStream.makeStream(of: LocalDomainEvent.self) }

        func publish(_ publication: Publication) async throws(PublishError) -> PublicationID { throw .shutDown }
        func update(_ id: PublicationID, to publication: Publication) async throws(PublishError) {}
        func withdraw(_ id: PublicationID) async {}
        func shutdown() async { continuation.finish() }
        func typeHeard(_ type: ServiceType) { heard.withLock { $0.append(type) } }
    }

    @Test func typesHeardOnTheLinkReachTheWrappedDomainInOrder() async throws {
        let inner = TypeRecorder()
        let (types, heard) = AsyncStream.makeStream(of: ServiceType.self)
        let domain = GoodbyeAwareDomain(wrapping: inner, goodbyes: AsyncStream { _ in }, types: types)
        let running = Task { await domain.run() }
        let sensor = try ServiceType("_zsensor._tcp"), printer = try ServiceType("_ipp._tcp")
        heard.yield(sensor)
        heard.yield(printer)
        let deadline = ContinuousClock.now + .seconds(5)
        while inner.heard.withLock({ $0.count }) < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(inner.heard.withLock { $0 } == [sensor, printer])
        await domain.shutdown()
        await running.value
    }
}
