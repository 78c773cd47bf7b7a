import NIOCore
import Primitives
import Synchronization

/// The live byte counts of one relayed stream, shared by the handlers on both of its
/// channels (which may run on two event loops), and read by metrics while it runs.
final class StreamMeter: Sendable {
    enum Direction: Sendable { case toService, fromService }

    private let toService = Atomic<UInt64>(0)
    private let fromService = Atomic<UInt64>(0)
    private let idle = Atomic<Bool>(false)

    func add(_ bytes: Int, _ direction: Direction) {
        switch direction {
        case .toService: toService.add(UInt64(bytes), ordering: .relaxed)
        case .fromService: fromService.add(UInt64(bytes), ordering: .relaxed)
        }
    }

    var counts: ByteCounts {
        ByteCounts(toService: toService.load(ordering: .relaxed), fromService: fromService.load(ordering: .relaxed))
    }

    /// Set when the stream is closed for idleness, so its end is counted as such.
    func markIdle() { idle.store(true, ordering: .relaxed) }
    var ending: StreamEnding { idle.load(ordering: .relaxed) ? .idleTimeout : .closed }
}

/// A stream an adapter has open: its service, its live counts, and the channel whose
/// closing ends it (set once the channel exists).
struct LiveStream {
    var service: ServiceRef
    var meter: StreamMeter
    var channel: Channel?
}

extension RelayReport {
    /// This report with the bytes of streams still open added to their services.
    func including(_ streams: some Sequence<LiveStream>) -> RelayReport {
        var report = self
        for stream in streams {
            let counts = stream.meter.counts
            report.services[stream.service, default: ServiceTraffic()].bytesToService += counts.toService
            report.services[stream.service, default: ServiceTraffic()].bytesFromService += counts.fromService
        }
        return report
    }
}

/// Closes a stream's channel when `IdleStateHandler` reports nothing moved either way for
/// the idle timeout, and marks the stream's end as idle.
final class IdleCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    private let meter: StreamMeter

    init(meter: StreamMeter) { self.meter = meter }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case IdleStateHandler.IdleStateEvent.all = event {
            meter.markIdle()
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

extension TimeAmount {
    init(_ interval: Interval) { self = .nanoseconds(Int64(clamping: interval.nanoseconds)) }
}
