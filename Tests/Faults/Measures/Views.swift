import Testbed

/// One watched host's view, named by its host: what the checks of a scenario compare with
/// the truth (the services that exist now, wherever they were published).
public struct HostView: Sendable {
    public var host: String
    public var view: BrowseView

    public init(host: String, view: BrowseView) {
        self.host = host
        self.view = view
    }
}

/// The questions every scenario asks of the islands' views, answered over snapshots so a
/// test can state them with hand-made lines and instants.
public enum ViewCheck {
    /// Whether every view holds exactly the truth (instance names of `type` over IPv4).
    public static func allEqual(_ views: [HostView], _ truth: Set<String>, type: String) -> Bool {
        views.allSatisfy { $0.view.names(ofType: type) == truth }
    }

    /// `i1h2: missing ['A'] extra ['B']; i2h2: …` for each view off the truth, or
    /// `all equal`: for failure messages and the state of the views at an instant.
    public static func describe(_ views: [HostView], _ truth: Set<String>, type: String) -> String {
        let off = views.compactMap { host -> String? in
            let names = host.view.names(ofType: type)
            guard names != truth else { return nil }
            return "\(host.host): missing \(Format.list(truth.subtracting(names))) extra \(Format.list(names.subtracting(truth)))"
        }
        return off.isEmpty ? "all equal" : off.joined(separator: "; ")
    }

    /// Whether the islands are whole again after a fault at `since`: every view equals the
    /// truth, and every service that went away from a view since then has been resolved
    /// there again (a view that never noticed the fault counts as whole).
    public static func isWhole(_ views: [HostView], _ truth: Set<String>, type: String, since: ContinuousClock.Instant) -> Bool {
        allEqual(views, truth, type: type)
            && views.allSatisfy { host in truth.allSatisfy { !host.view.isAway($0, since: since) } }
    }

    /// `name@host` for every service of the truth that went away from a view since `since`
    /// (and may be back), sorted.
    public static func dropped(_ views: [HostView], _ truth: Set<String>, since: ContinuousClock.Instant) -> [String] {
        Set(views.flatMap { host in
            truth.filter { host.view.first(.removed, of: $0, after: since) != nil }.map { "\($0)@\(host.host)" }
        }).sorted()
    }
}
