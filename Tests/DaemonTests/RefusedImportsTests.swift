@testable import Daemon
import DNSSD
import Gateway
import Island
import LocalDomain
import Primitives
import Testing

/// Retry decisions for imports avahi-daemon refused, on a clock moved by hand.
struct RefusedImportsTests {
    let printer = ImportKey(island: IslandID(rawValue: 1), type: try! ServiceType("_ipp._tcp"), name: try! InstanceName("Printer"))
    let scanner = ImportKey(island: IslandID(rawValue: 1), type: try! ServiceType("_uscan._tcp"), name: try! InstanceName("Scanner"))

    func publication(_ key: ImportKey, port: UInt16 = 631) -> Publication {
        Publication(name: key.name, type: key.type, port: port)
    }

    func at(_ seconds: Double) -> Instant { Instant(nanoseconds: UInt64(seconds * 1e9)) }

    @Test func theBackoffDoublesFromOneSecondAndStaysAtAMinute() {
        let delays = (1...9).map { RefusedImports.delay(afterAttempts: $0) }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60].map { Interval.seconds($0) })
    }

    @Test func aRefusedImportIsDueAfterItsBackoffAndKeepsBeingTried() {
        var refused = RefusedImports()
        let first = refused.refused(printer, publication(printer), reason: "Too many clients", now: at(10))
        #expect(first)
        #expect(refused.nextDue == at(11))
        let early = refused.takeDue(now: at(10.5))
        #expect(early.isEmpty)
        let due = refused.takeDue(now: at(11))
        #expect(due.map(\.key) == [printer])
        // In flight: not handed out twice.
        let again = refused.takeDue(now: at(30))
        #expect(again.isEmpty)
        #expect(refused.nextDue == nil)
        // Refused again: said once only (false), due two seconds later.
        let second = refused.refused(printer, publication(printer), reason: "Too many clients", now: at(11))
        #expect(!second)
        #expect(refused.refusals[printer]?.attempts == 2)
        #expect(refused.nextDue == at(13))
        _ = refused.takeDue(now: at(13))
        let ended = refused.published(printer)
        #expect(ended?.attempts == 2)
        #expect(refused.isEmpty)
    }

    @Test func freedCapacityMakesEveryWaitingRefusalDueAtOnce() {
        var refused = RefusedImports()
        for attempt in 0..<6 { refused.refused(printer, publication(printer), reason: "Too many objects", now: at(Double(attempt))) }
        refused.refused(scanner, publication(scanner), reason: "Too many objects", now: at(5))
        #expect(refused.nextDue == at(6))
        refused.capacityMayHaveFreed(now: at(5.5))
        let due = refused.takeDue(now: at(5.5))
        #expect(due.map(\.key) == [printer, scanner])
    }

    @Test func anUpdateWhileRefusedIsWhatTheNextAttemptPublishesAndAWithdrawalEndsTheRetries() {
        var refused = RefusedImports()
        refused.refused(printer, publication(printer), reason: "Too many clients", now: at(0))
        let updated = refused.updated(printer, to: publication(printer, port: 8631))
        let notRefused = refused.updated(scanner, to: publication(scanner))
        #expect(updated && !notRefused)
        let due = refused.takeDue(now: at(1))
        #expect(due.first?.publication.port == 8631)
        let withdrawn = refused.withdrawn(printer)
        #expect(withdrawn)
        let after = refused.takeDue(now: at(100))
        #expect(after.isEmpty)
        #expect(refused.nextDue == nil)
    }
}
