import DNSSD
import LocalDomain
import Testing

/// What the wrapper passes on to the domain it wraps.
struct GoodbyeAwareDomainTests {
    /// A domain that only records the types it is told of.
    final class TypeRecorder: LocalDomain {
        let events: AsyncStream<LocalDomainEvent>
        private let continuation: AsyncStream<LocalDomainEvent>.Continuation
        /// The types it was told of, in order, as they come.
        let heard: AsyncStream<ServiceType>
        private let told: AsyncStream<ServiceType>.Continuation

        init() {
            (events, continuation) = AsyncStream.makeStream(of: LocalDomainEvent.self)
            (heard, told) = AsyncStream.makeStream(of: ServiceType.self)
        }

        func publish(_ publication: Publication) async throws(PublishError) -> PublicationID { throw .shutDown }
        func update(_ id: PublicationID, to publication: Publication) async throws(PublishError) {}
        func withdraw(_ id: PublicationID) async {}
        func shutdown() async { continuation.finish() }
        func typeHeard(_ type: ServiceType) { told.yield(type) }
    }

    /// No wall-clock deadline (the unit tests share two cores with simulations): the test
    /// waits for the two types themselves, within its time limit.
    @Test(.timeLimit(.minutes(1))) func typesHeardOnTheLinkReachTheWrappedDomainInOrder() async throws {
        let inner = TypeRecorder()
        let (types, heard) = AsyncStream.makeStream(of: ServiceType.self)
        let domain = GoodbyeAwareDomain(wrapping: inner, goodbyes: AsyncStream { _ in }, types: types)
        let running = Task { await domain.run() }
        let sensor = try ServiceType("_zsensor._tcp"), printer = try ServiceType("_ipp._tcp")
        heard.yield(sensor)
        heard.yield(printer)
        var passedOn: [ServiceType] = []
        for await type in inner.heard {
            passedOn.append(type)
            if passedOn.count == 2 { break }
        }
        #expect(passedOn == [sensor, printer])
        await domain.shutdown()
        await running.value
    }
}
