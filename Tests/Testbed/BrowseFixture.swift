import DNSSD

/// avahi-browse lines and a view built from them at instants a unit test chooses: the
/// fixture of the tests of `BrowseView` and of what the fault scenarios check over views.
public struct BrowseFixture {
    public static let type = "_zfault._tcp"
    public let t0 = ContinuousClock.now

    public init() {}

    /// `seconds` after the fixture's origin.
    public func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int64(seconds * 1000)) }

    /// A view fed `lines`, each at its time.
    public func view(_ lines: [(Double, String)]) throws -> BrowseView {
        var view = BrowseView()
        for (time, text) in lines { view.record(try BrowseLine(parsing: text), at: at(time)) }
        return view
    }

    /// A resolved line (`=`) of `name`.
    public static func resolved(_ name: String, host: String = "h.local", proto: String = "IPv4", type: String = type) -> String {
        "=;eth0;\(proto);\(AvahiEscaping.escapeLabel(name));\(type);local;\(host);10.1.1.11;9000;"
    }

    /// A removal line (`-`) of `name`.
    public static func removed(_ name: String, proto: String = "IPv4") -> String {
        "-;eth0;\(proto);\(AvahiEscaping.escapeLabel(name));\(type);local"
    }
}
