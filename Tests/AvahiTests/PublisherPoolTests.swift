@testable import Avahi
import Testing

struct PublisherPoolTests {
    @Test func groupsFillOneClientBeforeTheNextIsAdded() {
        var pool = PublisherPool(capacity: 3)
        #expect((0..<7).map { _ in pool.place() } == [0, 0, 0, 1, 1, 1, 2])
        #expect(pool.clients == 3)
        #expect(pool.loads == [3, 3, 1])
    }

    @Test func tenThousandImportsWithTheirHostsStayUnderTheDaemonsDefaultLimitPerClient() {
        var pool = PublisherPool()
        for _ in 0..<(10_000 + 16) { _ = pool.place() }
        #expect(pool.loads.allSatisfy { $0 <= 1_024 / 2 })
        #expect(pool.clients == 20)
    }

    @Test func aWithdrawalMakesRoomThatTheNextGroupTakesBeforeANewClient() {
        var pool = PublisherPool(capacity: 2)
        for _ in 0..<4 { _ = pool.place() }
        pool.release(0)
        #expect(pool.place() == 0)
        #expect(pool.place() == 2)
    }

    @Test func aClientTheDaemonRefusesIsFullAtWhatItHoldsUntilOneOfItsGroupsGoes() {
        var pool = PublisherPool(capacity: 10)
        for _ in 0..<4 { _ = pool.place() }
        let index = pool.place()
        #expect(pool.refused(index)) // a daemon configured for 4 objects per client
        #expect(pool.loads == [4])
        #expect(pool.place() == 1)
        pool.release(0)
        #expect(pool.place() == 0)
        #expect(pool.place() == 1)
    }

    @Test func aRefusalOfAnEmptyClientIsNotAboutItsObjects() {
        var pool = PublisherPool(capacity: 10)
        let index = pool.place()
        #expect(!pool.refused(index))
        #expect(pool.loads == [0])
    }

    @Test func resetForgetsClientsAndTheirLimits() {
        var pool = PublisherPool(capacity: 10)
        _ = pool.place()
        _ = pool.place()
        _ = pool.refused(1)
        pool.reset()
        #expect(pool.clients == 0)
        #expect((0..<10).map { _ in pool.place() }.allSatisfy { $0 == 0 })
    }
}
