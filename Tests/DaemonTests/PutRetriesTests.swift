@testable import Daemon
import Primitives
import Rendezvous
import Testing

struct PutRetriesTests {
    let slot = PutRetries.Slot(key: RecordKey(point: NodeID(w0: 5, w1: 0, w2: 0, w3: 0)), valueID: 7)

    @Test func aPutThatWasNotStoredIsTriedAgainWithADoublingBackoffThatEnds() {
        let notStored = RendezvousError.notStored("no node")
        let delays = (1...PutRetries.maximumAttempts).map { PutRetries.delay(after: notStored, attempt: $0) }
        #expect(delays.prefix(6) == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30)])
        #expect(delays.dropLast().allSatisfy { $0 != nil })
        #expect(delays.last == .some(nil))
    }

    @Test func aPermanentFailureIsNotTriedAgain() {
        #expect(PutRetries.delay(after: RendezvousError.tooLarge(70_000), attempt: 1) == nil)
        #expect(PutRetries.delay(after: RendezvousError.shutDown, attempt: 1) == nil)
        #expect(PutRetries.delay(after: CancellationError(), attempt: 1) == nil)
    }

    @Test func aLaterPutOrRemoveOrLeavingSupersedesARetry() {
        var retries = PutRetries()
        let first = retries.issued(slot)
        #expect(retries.isCurrent(slot, generation: first))
        let other = PutRetries.Slot(key: slot.key, valueID: 8)
        _ = retries.issued(other)
        #expect(retries.isCurrent(slot, generation: first)) // another value does not touch this one
        let second = retries.issued(slot)
        #expect(!retries.isCurrent(slot, generation: first))
        #expect(retries.isCurrent(slot, generation: second))
        retries.removed(slot)
        #expect(!retries.isCurrent(slot, generation: second))
        let third = retries.issued(slot)
        retries.forgetAll()
        #expect(!retries.isCurrent(slot, generation: third))
    }

    @Test func aStoredPutLeavesTheTableUnlessALaterOneIsPending() {
        var retries = PutRetries()
        let first = retries.issued(slot)
        let second = retries.issued(slot)
        retries.stored(slot, generation: first) // the earlier put landed; the later one is in flight
        #expect(retries.isCurrent(slot, generation: second))
        retries.stored(slot, generation: second)
        #expect(retries.pending == 0)
    }
}
