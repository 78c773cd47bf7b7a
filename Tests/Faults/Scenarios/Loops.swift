import Foundation
import Testbed

#if canImport(Glibc)
import Glibc
#endif

/// Loops through an mDNS reflector: nothing a gateway published may come back as a service
/// of another island, be renamed, or show twice.
enum Loops {
    /// Island 1: two gateways (i1h1, i1h2) and an avahi reflector (i1h3) that also sits on
    /// link 3, which has no gateway; island 2: one gateway. Every `--every` seconds:
    /// re-exports, renames and duplicate instances, counted over `--minutes`; a failover on
    /// island 1 every `--failover-every` checks.
    static func run(_ lab: Lab, _ options: FaultOptions) async throws {
        try await lab.bed.attach(.i(1, h: 3), island: 3)
        try await lab.bed.reflector(.i(1, h: 3), on: true)
        let one = [try lab.gateway(.i(1, h: 1), island: "one", seed: .i(2, h: 1), priority: 200),
                   try lab.gateway(.i(1, h: 2), island: "one", seed: .i(2, h: 1))]
        let gateways = one + [try lab.gateway(.i(2, h: 1), island: "two", seed: .i(1, h: 1))]
        let links = [("link1", try lab.watch(.i(1, h: 1))), ("link2", try lab.watch(.i(2, h: 2))), ("link3", try lab.watch(.i(3, h: 2)))]
        let watchers = links.map(\.1)
        _ = try lab.publish(.i(1, h: 3), "Reflector Scanner") // on links 1 and 3 (the reflector host itself)
        _ = try lab.publish(.i(3, h: 1), "Far Printer") // on link 3, reflected onto link 1, exported by island 1
        _ = try lab.publish(.i(2, h: 3), "Speaker two") // island 2, imported onto link 1, reflected onto link 3
        _ = try lab.publish(.i(1, h: 2), "Desk one") // island 1's own link
        let homes = ["Reflector Scanner": "one", "Far Printer": "one", "Speaker two": "two", "Desk one": "one"]
        let truth = Set(homes.keys)
        let took = try require(await waitUntil(90) { lab.viewsEqual(watchers, truth) }, "every service on every link")
        let minutes = options.runMinutes
        lab.say("every link sees the \(truth.count) services after \(Format.fixed(took, 1)) s; checking every "
            + "\(Format.fixed(options.every, 0)) s for \(Format.fixed(minutes, 0)) min")
        let end = ContinuousClock.now + .seconds(minutes * 60)
        var checks = 0, offViews = 0, reexports = 0, renames = 0, duplicates = 0, doubleHosts = 0, failovers = 0
        var everSeen = Set<String>()
        while ContinuousClock.now < end {
            try await Task.sleep(for: .seconds(options.every))
            checks += 1
            var imports = 0
            for gateway in gateways {
                let listed = await gateway.services() ?? []
                imports += listed.count(where: \.isImported)
                for service in ImportAudit.reexports(in: listed, gatewayIsland: gateway.island, homes: homes) {
                    reexports += 1
                    lab.say("re-export seen by \(gateway.host): \(service.name) from \(service.islandName ?? "None") host "
                        + (service.host ?? "None"))
                }
            }
            for (link, watcher) in links {
                let view = watcher.view
                let names = view.names(ofType: Lab.type)
                everSeen.formUnion(names)
                if names != truth {
                    offViews += 1
                    lab.say("\(link): missing \(Format.list(truth.subtracting(names))) extra \(Format.list(names.subtracting(truth)))")
                }
                duplicates += names.subtracting(truth).count
                doubleHosts += view.hosts(ofType: Lab.type).values.count(where: HostMark.isMarkedTwice)
            }
            renames = avahiConflicts(lab) + gateways.map { $0.logLines(containing: "collision, renaming") }.reduce(0, +)
            // A failover now and then: the reflector sees both leaders' publications.
            if options.failoverEvery > 0, checks % options.failoverEvery == 0, let leader = await lab.leader(of: one) {
                failovers += 1
                await leader.stop(failovers % 2 == 1 ? SIGTERM : SIGKILL)
                try leader.start()
            }
            let elapsed = minutes * 60 - (end - ContinuousClock.now).seconds
            lab.print("check \(checks): t=\(Format.fixed(elapsed, 0))s re-exports \(reexports) renames \(renames) duplicate "
                + "instances \(duplicates) double-marked hosts \(doubleHosts) views off the truth \(offViews) failovers \(failovers) "
                + "(imports listed by the gateways \(imports))")
        }
        lab.figure(Figure("loops.checks", .integer(checks),
                          "\(checks) checks over \(Format.fixed(minutes, 0)) min, \(failovers) failovers on island 1"))
        lab.figure(Figure("loops.reexports", .integer(reexports), "re-exports: \(reexports)", target: "0", met: reexports == 0))
        lab.figure(Figure("loops.renames", .integer(renames),
                          "host-name and instance renames (avahi conflicts + z2zd collisions): \(renames)", target: "0", met: renames == 0))
        lab.figure(Figure("loops.duplicates", .integer(duplicates + doubleHosts),
                          "duplicate instances: \(duplicates); hosts marked twice: \(doubleHosts)",
                          target: "0", met: duplicates + doubleHosts == 0))
        lab.figure(Figure("loops.views_off", .integer(offViews),
                          "link views that differed from the truth at a check: \(offViews) (names ever seen: \(Format.list(everSeen)))"))
    }

    /// Conflicts in every host's avahi-daemon log (a rename is logged as one).
    static func avahiConflicts(_ lab: Lab) -> Int {
        let hosts = (try? FileManager.default.contentsOfDirectory(atPath: lab.bed.directory)) ?? []
        return hosts.compactMap { try? String(contentsOfFile: "\(lab.bed.directory)/\($0)/avahi.log", encoding: .utf8) }
            .map { LogScan.lines(in: $0, containing: "conflict") }.reduce(0, +)
    }
}
