import Primitives
import DNSSD
import Gateway
import Island
import LocalDomain

/// The truth about imports in a `GatewayNetwork`, kept as things happen so that "does
/// every island's link show exactly every other island's services?" costs O(islands), not
/// O(islands × services), at any moment.
///
/// - Truth: every service a device publishes on a present island, keyed as importers key
///   it (`ImportKey`: the island's id, type, name) with what an import must carry (port,
///   TXT, subtypes, routable addresses). An island that has not elected a leader yet has no
///   id: its services are *pending*, and no other island can be whole while there are any.
/// - Imports: what the gateways of each island published on its link for other islands
///   (`GatewayMachine.Effect.publish`/`update`, gone on `withdraw` or when the gateway stops).
/// - Per observing island and import: *good* (the truth, content included), *stale* (the
///   service exists but the import differs, or it is the island's own), *zombie* (the
///   service is no longer anywhere), *lingering* (a zombie of an island whose gateways were
///   killed: nobody removed its values, so they stay until they expire — by design).
struct ImportLedger {
    /// What an import must carry to equal the service it stands for.
    struct Content: Hashable {
        var port: UInt16
        var txt: TXTRecord
        var subtypes: [Subtype]
        var addresses: [IPAddress]

        init(device service: ServiceInstance) {
            port = service.port
            txt = service.txt
            subtypes = service.subtypes
            addresses = Array(Set(service.routableAddresses)).sorted().prefix(ServiceRecord.maximumAddresses).map { $0 }
        }

        init(import publication: Publication) {
            port = publication.port
            txt = publication.txt
            subtypes = publication.subtypes
            if case .synthesized(_, let addresses) = publication.host { self.addresses = addresses } else { self.addresses = [] }
        }
    }

    enum Verdict { case good, stale, zombie, lingering }

    private(set) var truth: [ImportKey: Content] = [:]
    /// The island each truth key belongs to (kept after the key left the truth).
    private var origin: [ImportKey: Int] = [:]
    /// Islands whose gateways were all killed.
    private var killed: Set<Int> = []
    /// Per import key, per (observing island, publishing gateway) (`Shown.at`): what it shows.
    private var shown: [ImportKey: [Int: Content]] = [:]
    /// The gateways of each island (a few), to find what an island's gateways show.
    private var gatewaysOf: [[Int]] = []
    private(set) var good: [Int] = []
    private(set) var stale: [Int] = []
    private(set) var zombies: [Int] = []
    private(set) var lingering: [Int] = []
    /// Truth keys per island (its own services).
    private var own: [Int] = []
    /// Services of islands with no id yet, per island.
    private var pending: [Int] = []
    private var pendingTotal = 0
    private(set) var islandIDs: [Int: IslandID] = [:]

    /// Where (observer, gateway) sits in `shown`.
    private static func at(_ observer: Int, _ gateway: Int) -> Int { observer << 32 | gateway }

    mutating func addIsland() {
        gatewaysOf.append([])
        good.append(0)
        stale.append(0)
        zombies.append(0)
        lingering.append(0)
        own.append(0)
        pending.append(0)
    }

    // MARK: truth

    /// A device service appeared or changed on `island`'s link.
    mutating func deviceService(_ service: ServiceInstance, island: Int) {
        guard let id = islandIDs[island] else {
            pending[island] += 1
            pendingTotal += 1
            return
        }
        setTruth(ImportKey(island: id, type: service.type, name: service.name), Content(device: service), origin: island)
    }

    /// A device service left `island`'s link (or the island left).
    mutating func deviceServiceGone(_ service: ServiceInstance, island: Int) {
        guard let id = islandIDs[island] else {
            pending[island] -= 1
            pendingTotal -= 1
            return
        }
        setTruth(ImportKey(island: id, type: service.type, name: service.name), nil, origin: island)
    }

    /// The island's leader named its id: its services are keyed by it from now on.
    mutating func setIslandID(_ id: IslandID, island: Int, services: [ServiceInstance]) {
        guard islandIDs[island] != id else { return }
        if let old = islandIDs[island] {
            for s in services { setTruth(ImportKey(island: old, type: s.type, name: s.name), nil, origin: island) }
        } else {
            pendingTotal -= pending[island]
            pending[island] = 0
        }
        islandIDs[island] = id
        for s in services { setTruth(ImportKey(island: id, type: s.type, name: s.name), Content(device: s), origin: island) }
    }

    mutating func addGateway(_ gateway: Int, island: Int) { gatewaysOf[island].append(gateway) }

    private mutating func setTruth(_ key: ImportKey, _ content: Content?, origin island: Int) {
        let observers = Set((shown[key] ?? [:]).keys.map { $0 >> 32 })
        let before = observers.map { ($0, verdict(key, observer: $0)) }
        if truth[key] != nil { own[origin[key]!] -= 1 }
        truth[key] = content
        origin[key] = island
        if content != nil { own[island] += 1 }
        for (observer, old) in before {
            count(old, observer, -1)
            count(verdict(key, observer: observer), observer, +1)
        }
    }

    // MARK: imports

    /// Gateway `gateway` of `island` published (or updated) an import.
    mutating func imported(_ key: ImportKey, _ publication: Publication, island: Int, gateway: Int) {
        let old = verdict(key, observer: island)
        shown[key, default: [:]][Self.at(island, gateway)] = Content(import: publication)
        count(old, island, -1)
        count(verdict(key, observer: island), island, +1)
    }

    mutating func withdrawn(_ key: ImportKey, island: Int, gateway: Int) {
        guard shown[key]?[Self.at(island, gateway)] != nil else { return }
        let old = verdict(key, observer: island)
        shown[key]![Self.at(island, gateway)] = nil
        if shown[key]!.isEmpty { shown[key] = nil }
        count(old, island, -1)
        count(verdict(key, observer: island), island, +1)
    }

    // MARK: verdicts

    /// How `observer`'s link shows `key`; nil when it does not.
    func verdict(_ key: ImportKey, observer: Int) -> Verdict? {
        guard let byGateway = shown[key] else { return nil }
        let contents = gatewaysOf[observer].compactMap { byGateway[Self.at(observer, $0)] }
        guard !contents.isEmpty else { return nil }
        guard let content = truth[key] else { return origin[key].map(killed.contains) == true ? .lingering : .zombie }
        return origin[key] != observer && contents.allSatisfy({ $0 == content }) ? .good : .stale
    }

    private mutating func count(_ verdict: Verdict?, _ observer: Int, _ delta: Int) {
        switch verdict {
        case .good: good[observer] += delta
        case .stale: stale[observer] += delta
        case .zombie: zombies[observer] += delta
        case .lingering: lingering[observer] += delta
        case nil: break
        }
    }

    /// Whether `observer`'s imports are exactly every other island's services; with
    /// `lingeringAllowed`, imports of killed islands' services aside.
    func isWhole(_ observer: Int, lingeringAllowed: Bool = false) -> Bool {
        stale[observer] == 0 && zombies[observer] == 0 && (lingeringAllowed || lingering[observer] == 0)
            && pendingTotal == pending[observer] && good[observer] == truth.count - own[observer]
    }

    /// The island's gateways were killed: its services' imports linger until their values
    /// expire. Call before its services leave the truth.
    mutating func markKilled(_ island: Int) { killed.insert(island) }

    /// What `observer` lacks and shows wrongly, for a failure message (slow: O(services)).
    func differences(of observer: Int, limit: Int = 3) -> String {
        var missing: [ImportKey] = []
        for (key, _) in truth where origin[key] != observer && verdict(key, observer: observer) != .good { missing.append(key) }
        var wrong: [String] = []
        for key in shown.keys {
            if let v = verdict(key, observer: observer), v != .good { wrong.append("\(key.name.value) [\(key.type)] \(v)") }
        }
        return "island \(observer): \(missing.count) missing (\(missing.sorted().prefix(limit).map { "\($0.name.value) [\($0.type)]" }.joined(separator: ", "))), "
            + "\(wrong.count) wrong (\(wrong.sorted().prefix(limit).joined(separator: ", "))), "
            + "\(pendingTotal - pending[observer]) services of islands with no leader yet"
    }

    var totalZombies: Int { zombies.reduce(0, +) }
}
