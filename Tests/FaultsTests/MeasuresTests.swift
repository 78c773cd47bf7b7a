import DNSSD
import Faults
import Testbed
import Testing

/// What the scenarios conclude from what they saw: goodbyes, memory, imports, loss.
@Suite struct MeasuresTests {
    static func goodbye(_ name: String, at: Double, type: String = "_zfault._tcp") throws -> GoodbyeListener.Goodbye {
        GoodbyeListener.Goodbye(at: at, service: ServiceID(name: try InstanceName(name), type: try ServiceType(type)))
    }

    @Test func theFirstGoodbyeAfterTheStopCountsPerInstance() throws {
        let heard = [
            try Self.goodbye("Svc 0", at: 99.0), // before the stop: another goodbye
            try Self.goodbye("Svc 0", at: 100.2),
            try Self.goodbye("Svc 0", at: 100.9), // a repetition
            try Self.goodbye("Svc 1", at: 101.5),
            try Self.goodbye("Svc 2", at: 100.1, type: "_ipp._tcp"), // another type
            try Self.goodbye("Other", at: 100.1), // not one of ours
        ]
        let tally = GoodbyeTally(heard, names: ["Svc 0", "Svc 1", "Svc 2"], type: "_zfault._tcp", stoppedAt: 100)
        #expect(tally.delays.keys.sorted() == ["Svc 0", "Svc 1"])
        #expect(abs(tally.delays["Svc 0"]! - 0.2) < 1e-9)
        #expect(tally.count(within: 1.0) == 1)
        #expect(abs(tally.last! - 1.5) < 1e-9)
        #expect(GoodbyeTally([], names: ["Svc 0"], type: "_zfault._tcp", stoppedAt: 0).last == nil)
    }

    @Test func memoryGrowthComparesTheFirstWarmSampleWithTheMedianOfTheLastThree() throws {
        let samples = [
            ResourceSample(at: 0, rssKiB: 10_000, descriptors: 30), // in the warm-up
            ResourceSample(at: 300, rssKiB: 60_000, descriptors: 26),
            ResourceSample(at: 330, rssKiB: nil, descriptors: nil), // gone for a moment
            ResourceSample(at: 360, rssKiB: 61_000, descriptors: 27),
            ResourceSample(at: 390, rssKiB: 70_000, descriptors: 26), // a burst
            ResourceSample(at: 420, rssKiB: 60_600, descriptors: 28),
        ]
        let trend = try #require(MemoryTrend(samples, warmup: 300))
        #expect(trend.base == 60_000)
        #expect(trend.last == 61_000)
        #expect(abs(trend.growth - 1.0 / 60) < 1e-12)
        #expect(trend.growthIsWithinTarget)
        #expect(trend.descriptors == [26, 27, 26, 28])
        #expect(trend.descriptorsAreFlat)

        let leaking = try #require(MemoryTrend([ResourceSample(at: 0, rssKiB: 100, descriptors: 10),
                                                ResourceSample(at: 1, rssKiB: 110, descriptors: 11),
                                                ResourceSample(at: 2, rssKiB: 112, descriptors: 13)], warmup: 0))
        #expect(leaking.last == 110)
        #expect(!leaking.growthIsWithinTarget)
        #expect(!leaking.descriptorsAreFlat)
        #expect(MemoryTrend([ResourceSample(at: 400, rssKiB: 100, descriptors: 10)], warmup: 300) == nil)
    }

    @Test func anImportFromItsOwnIslandOrAnotherThanTheHomeOrThroughADoublyMarkedHostIsAReexport() {
        let homes = ["Speaker two": "two", "Desk one": "one"]
        let listed = [
            ListedService(name: "Speaker two", type: "_zfault._tcp", origin: "imported", island: "two", host: "h-z2z-two.local"),
            ListedService(name: "Desk one", type: "_zfault._tcp", origin: "local", island: "one", host: "i1h2.local"),
            ListedService(name: "Desk one", type: "_zfault._tcp", origin: "imported", island: "one", host: "x-z2z-one.local"),
            ListedService(name: "Speaker two", type: "_zfault._tcp", origin: "imported", island: "three", host: "y-z2z-three.local"),
            ListedService(name: "Speaker two", type: "_zfault._tcp", origin: "imported", island: "two",
                          host: "h-z2z-two-z2z-one.local"),
        ]
        let bad = ImportAudit.reexports(in: listed, gatewayIsland: "one", homes: homes).map(\.host)
        #expect(bad == ["x-z2z-one.local", "y-z2z-three.local", "h-z2z-two-z2z-one.local"] as [String?])
        #expect(ImportAudit.reexports(in: Array(listed.prefix(2)), gatewayIsland: "one", homes: homes).isEmpty)
        #expect(HostMark.isMarkedTwice("a-z2z-b-z2z-c.local"))
        #expect(!HostMark.isMarkedTwice("a-z2z-b.local"))
    }

    @Test func gatewayListingsAreReadLooselyFromTheCLIsJSON() {
        let json = #"{"services": [{"name": "P", "type": "_zfault._tcp", "origin": "imported", "port": 9000,"#
            + #" "island": {"id": "0011", "name": "two"}, "host": "p-z2z-two.local", "txt": []}]}"#
        #expect(ListedService.decode(json) == [ListedService(name: "P", type: "_zfault._tcp", origin: "imported",
                                                             island: "two", host: "p-z2z-two.local")])
        #expect(ListedService.decode(#"[{"name": "Q", "type": "_x._tcp"}]"#)?.first?.isImported == false)
        #expect(ListedService.decode("not json") == nil)
        #expect(roleInStatus(#"{"role": "leader", "stage": {"name": "structure"}}"#) == "leader")
        #expect(roleInStatus("") == nil)
    }

    @Test func logScanCountsLinesIgnoringCase() {
        #expect(LogScan.lines(in: "Host name conflict, retrying\nok\nCONFLICT again\n", containing: "conflict") == 2)
        #expect(LogScan.lines(in: "", containing: "conflict") == 0)
    }

    @Test func aDatagramBetweenLossyIslandsPassesTwoRules() {
        #expect(abs(LossPlan.pathLoss(percent: 5) - 0.0975) < 1e-12)
        #expect(LossPlan.pathLoss(percent: 0) == 0)
        #expect(LossPlan.pathLoss(percent: 100) == 1)
        #expect(LossPlan.requiredCrossing(percent: 5) == 0.99)
        #expect(LossPlan.requiredCrossing(percent: 6) == 0.95)
        #expect(LossPlan.requiredCrossing(percent: 20) == 0.95)
        #expect(LossPlan.requiredCrossing(percent: 21) == 0)
    }

    @Test func eachFlapperHasOneHomeAcrossIslandsAndHosts() {
        let homes = (0..<6).map { FlapPlan.flapper($0) }
        #expect(homes.map(\.name) == ["Flap 0", "Flap 1", "Flap 2", "Flap 3", "Flap 4", "Flap 5"])
        #expect(homes.map(\.island) == [1, 2, 3, 1, 2, 3])
        #expect(homes.map(\.host) == [2, 2, 2, 3, 3, 3])
        #expect(FlapPlan.flapper(6).host == 2)
        #expect(FlapPlan.flapper(7) == FlapPlan.flapper(7))
    }

    @Test func theSoakReplaysFromItsSeed() {
        var one = SeededGenerator(seed: 1), again = SeededGenerator(seed: 1), other = SeededGenerator(seed: 2)
        let first = (0..<5).map { _ in one.next() }
        #expect(first == (0..<5).map { _ in again.next() })
        #expect(first != (0..<5).map { _ in other.next() })
        #expect(Set(first).count == 5)
    }
}
