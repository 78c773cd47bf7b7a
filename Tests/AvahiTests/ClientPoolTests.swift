@testable import Avahi
import Testing

struct ClientPoolTests {
    @Test func groupsFillOneClientBeforeTheNextIsAdded() {
        var pool = ClientPool(capacity: 3)
        var placed: [Int] = []
        for _ in 0..<7 { placed.append(pool.place()) }
        #expect(placed == [0, 0, 0, 1, 1, 1, 2])
        #expect(pool.clients == 3)
        #expect(pool.loads == [3, 3, 1])
    }

    @Test func tenThousandImportsWithTheirHostsStayUnderTheDaemonsDefaultLimitPerClient() {
        var pool = ClientPool()
        for _ in 0..<(10_000 + 16) { _ = pool.place() }
        #expect(pool.loads.allSatisfy { $0 <= 1_024 / 2 })
        #expect(pool.clients == 20)
    }

    @Test func aWithdrawalMakesRoomThatTheNextGroupTakesBeforeANewClient() {
        var pool = ClientPool(capacity: 2)
        for _ in 0..<4 { _ = pool.place() }
        pool.release(0)
        let intoTheHole = pool.place()
        #expect(intoTheHole == 0)
        let afterTheFullOnes = pool.place()
        #expect(afterTheFullOnes == 2)
    }

    @Test func aClientTheDaemonRefusesIsFullAtWhatItHoldsUntilOneOfItsGroupsGoes() {
        var pool = ClientPool(capacity: 10)
        for _ in 0..<4 { _ = pool.place() }
        let index = pool.place()
        let capped = pool.refused(index)
        #expect(capped) // a daemon configured for 4 objects per client
        #expect(pool.loads == [4])
        let whileFull = pool.place()
        #expect(whileFull == 1)
        pool.release(0)
        let intoItsRoom = pool.place()
        #expect(intoItsRoom == 0)
        let fullAgain = pool.place()
        #expect(fullAgain == 1)
    }

    @Test func aRefusalOfAnEmptyClientIsNotAboutItsObjects() {
        var pool = ClientPool(capacity: 10)
        let index = pool.place()
        let capped = pool.refused(index)
        #expect(!capped)
        #expect(pool.loads == [0])
    }

    @Test func resetForgetsClientsAndTheirLimits() {
        var pool = ClientPool(capacity: 10)
        _ = pool.place()
        _ = pool.place()
        _ = pool.refused(1) as Bool
        pool.reset()
        #expect(pool.clients == 0)
        var placed: [Int] = []
        for _ in 0..<10 { placed.append(pool.place()) }
        #expect(placed.allSatisfy { $0 == 0 })
    }
}
