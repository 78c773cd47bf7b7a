import DNSSD

/// Which service types get a service browser when browsing every type: those Avahi's type
/// browser enumerates (RFC 6763 §9), and those heard named on the link (`MDNSTypes`, read
/// by the gateway's own mDNS listener) before the type browser's next query gets to them.
///
/// Responders other than Avahi (python-zeroconf, many devices) do not announce the
/// enumeration record of a new type, and Avahi backs its enumeration queries off towards
/// an hour, so such a type would wait up to half a minute and more; heard, it is browsed at
/// once. A type is browsed once, however it was learned, and stays browsed as long as the
/// connection to avahi-daemon (a browser reports its instances' removals itself; the type
/// going is no proof that none is left). Every browser costs one of the objects
/// avahi-daemon allows a client (`objects-per-client-max`, 1024 as Debian ships it, shared
/// with resolvers and publications), and a host can name as many made-up types as it likes,
/// so types heard but never enumerated are bounded by `heardLimit`; the first refusal is
/// reported, once per connection.
///
/// Pure: the Avahi wrapper feeds it what it learns and opens the browsers it is told to.
struct BrowsedTypes {
    static let defaultHeardLimit = 256

    enum Effect: Hashable, Sendable {
        case openBrowser(ServiceType)
        /// `type` was heard but not browsed: `limit` heard types are browsed unconfirmed already.
        case heardLimitReached(ServiceType, limit: Int)
    }

    let heardLimit: Int
    private(set) var browsed: Set<ServiceType> = []
    /// Heard on the link and not (yet) enumerated by the type browser.
    private(set) var unconfirmed: Set<ServiceType> = []
    private var limitReported = false

    init(heardLimit: Int = Self.defaultHeardLimit) {
        self.heardLimit = heardLimit
    }

    /// The type browser (or the configuration) names `type`: it is browsed, and confirmed.
    mutating func enumerated(_ type: ServiceType) -> [Effect] {
        unconfirmed.remove(type)
        return browsed.insert(type).inserted ? [.openBrowser(type)] : []
    }

    /// A packet on the link names `type`.
    mutating func heard(_ type: ServiceType) -> [Effect] {
        guard !browsed.contains(type) else { return [] }
        guard unconfirmed.count < heardLimit else {
            guard !limitReported else { return [] }
            limitReported = true
            return [.heardLimitReached(type, limit: heardLimit)]
        }
        unconfirmed.insert(type)
        browsed.insert(type)
        return [.openBrowser(type)]
    }

    /// avahi-daemon refused the browser: the next mention of the type tries again.
    mutating func browserFailed(_ type: ServiceType) {
        browsed.remove(type)
        unconfirmed.remove(type)
    }

    /// The connection is gone and every browser with it; the type browser of the next one
    /// enumerates afresh.
    mutating func disconnected() {
        self = BrowsedTypes(heardLimit: heardLimit)
    }
}
