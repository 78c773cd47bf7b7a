import DNSSD
@testable import Gateway
import Island
import LocalDomain
import Primitives
import Rendezvous

/// Islands of gateways running `GatewayMachine` on virtual time, with everything else
/// modelled: each island's link (mDNS as instant, reliable delivery of what is published
/// on it), unicast heartbeats with a small delay, and a rendezvous where every put is seen
/// by every subscriber after a small delay. Devices publish services on links.
struct GatewayWorld {
    struct Gateway {
        var machine: GatewayMachine
        var island: Int
        var endpoint: Endpoint
        var running = true
        var inRendezvous = false
        var subscriptions: Set<RecordKey> = []
        /// What this gateway published on its link, by import key.
        var publications: [ImportKey: Publication] = [:]
        var advert: Publication?
        var persistedIsland: IslandID?
        /// What the machine gave its rendezvous to join through.
        var seeds: [Endpoint] = []
    }

    /// A service on a link as every host there sees it.
    struct Announcement: Hashable {
        var service: ServiceInstance
        /// Index of the gateway that published it, nil for a device.
        var publisher: Int?
    }

    var gateways: [Gateway] = []
    /// Per island: announcements by service id.
    var links: [Int: [ServiceID: Announcement]] = [:]
    var values: [RecordKey: [ValueSlot: RendezvousValue]] = [:]
    var now = Instant.zero
    let delay = Interval.milliseconds(2)
    /// Extra time a removal takes to reach subscribers (a lost datagram sent again), so that
    /// changes sent after it overtake it.
    var removalDelay = Interval.zero
    private var queue: [(at: Instant, gateway: Int, event: GatewayMachine.Event)] = []
    private var sequence: UInt64 = 0
    var network = NetworkID(rawValue: 0x2a)
    /// Pairs of gateways whose heartbeats are lost (a flaky link between two of them).
    var cutHeartbeats: Set<[Int]> = []
    /// Tags every gateway's heartbeats when set (before the gateways are added).
    var networkKey: NetworkKey?
    /// While on, heartbeats are copied here as they leave (a listener on the link).
    var capturing = false
    var captured: [(from: Int, to: Int, bytes: [UInt8])] = []
    /// Every rejection a gateway reported (`GatewayFact.rejected`), by gateway.
    var rejections: [Int: [String]] = [:]

    /// A box in router mode (`addRouter`): its links' in-process exchange, and a gateway per
    /// link towards the rest of the network, the exchange following which links they lead
    /// as the daemon's `RouterService` does.
    struct Router {
        var exchange: LinkExchange
        /// By link: the world's island, and the index of the link's gateway.
        var islands: [Int]
        var gateways: [Int]
        /// The exchange's publications, by link.
        var publications: [[ImportKey: Publication]]
        var leading: [IslandID?]
    }

    var router: Router?
    /// The publisher the router's exchange announces as.
    static let exchangePublisher = -1

    static func nodeID(_ index: Int) -> NodeID { NodeID(w0: UInt64(index + 1) << 40, w1: 7, w2: 7, w3: UInt64(index)) }

    @discardableResult
    mutating func addGateway(island: Int, priority: UInt8 = 100, islandName: String? = nil, islandID: IslandID? = nil,
                             siblings: Set<IslandID> = []) -> Int {
        let index = gateways.count
        let endpoint = Endpoint(ipv4: 10, UInt8(island), 0, UInt8(10 + index), port: 7400)
        var settings = GatewayMachine.Settings(id: Self.nodeID(index), network: network, priority: priority, port: 7400,
                                               island: islandID, islandName: islandName ?? "island-\(island)",
                                               seed: UInt64(index + 1))
        settings.siblingIslands = siblings
        settings.networkKey = networkKey
        let machine = GatewayMachine(settings: settings)
        gateways.append(Gateway(machine: machine, island: island, endpoint: endpoint))
        // The new gateway first sees everything already on its link.
        for announcement in (links[island] ?? [:]).values.sorted(by: { $0.service.id < $1.service.id }) {
            deliver(index, .local(.added(discovered(announcement, by: index))))
        }
        deliver(index, .tick)
        return index
    }

    /// A router on `islands` (one link each); its link gateways have `priority`.
    mutating func addRouter(islands: [Int], priority: UInt8 = 100, box: NodeID = NodeID(w0: 0xb0c5, w1: 1, w2: 2, w3: 3)) {
        let exchange = LinkExchange(links: islands.map { (name: "link-\($0)", interface: "lan\($0)") }, box: box, led: false,
                                    settleTime: .zero)
        router = Router(exchange: exchange, islands: islands, gateways: [], publications: islands.map { _ in [:] },
                        leading: islands.map { _ in nil })
        for link in exchange.links {
            let index = addGateway(island: islands[link.index], priority: priority, islandName: link.name, islandID: link.island)
            router?.gateways.append(index)
            for announcement in (links[islands[link.index]] ?? [:]).values.sorted(by: { $0.service.id < $1.service.id }) {
                routerObserve(.added(discovered(announcement, by: Self.exchangePublisher)), on: link.index)
            }
            routerObserve(.settled, on: link.index)
        }
    }

    /// How many times a service called `name` is announced on `island`: by devices, gateways
    /// and the router's exchange (a second copy would be a duplicate the hosts see).
    func copies(_ name: String, on island: Int) -> Int {
        let devices = (links[island] ?? [:]).values.filter { $0.publisher == nil && $0.service.name.value == name }.count
        let byGateways = gateways.filter { $0.running && $0.island == island }
            .reduce(0) { $0 + $1.publications.values.filter { $0.name.value == name }.count }
        let byExchange = router.map { router in
            router.islands.indices.filter { router.islands[$0] == island }
                .reduce(0) { $0 + router.publications[$1].values.filter { $0.name.value == name }.count }
        } ?? 0
        return devices + byGateways + byExchange
    }

    mutating func publishDevice(island: Int, _ service: ServiceInstance) {
        announce(island: island, Announcement(service: service, publisher: nil))
    }

    mutating func withdrawDevice(island: Int, _ id: ServiceID) {
        retract(island: island, id)
    }

    /// The contact checks of `island`'s leader found these SIP UAs dead (`LocalUAChecks`).
    mutating func setNotAnswering(island: Int, _ services: Set<ServiceID>) {
        for index in leaders(island: island) {
            for effect in gateways[index].machine.setNotAnswering(services) { perform(effect, by: index) }
        }
    }

    /// kill -9: the gateway stops; what it published on its link goes with its responder's
    /// client (Avahi withdraws a dead client's groups); its rendezvous values stay.
    mutating func kill(_ index: Int) {
        gateways[index].running = false
        for key in gateways[index].publications.keys { retractPublication(index, key) }
        if let advert = gateways[index].advert {
            retract(island: gateways[index].island, ServiceID(name: advert.name, type: advert.type))
        }
    }

    /// A datagram from a host that is no gateway (a replay), delivered at once.
    mutating func inject(heartbeat bytes: [UInt8], to index: Int, from endpoint: Endpoint) {
        deliver(index, .heartbeat(bytes, from: endpoint))
    }

    /// What a host on `island` sees (devices and gateway publications), as `avahi-browse` would.
    func view(island: Int) -> [ServiceInstance] {
        (links[island] ?? [:]).values.map(\.service).filter { $0.type != GatewayAdvert.serviceType }.sorted { $0.id < $1.id }
    }

    func leaders(island: Int) -> [Int] {
        gateways.indices.filter { gateways[$0].running && gateways[$0].island == island && gateways[$0].machine.role == .leader }
    }

    // MARK: running

    mutating func run(for duration: Interval) {
        let end = now + duration
        while true {
            let nextEvent = queue.map(\.at).min()
            let nextTick = gateways.indices.filter { gateways[$0].running }.compactMap { gateways[$0].machine.nextDeadline }.min()
            guard let next = [nextEvent, nextTick].compactMap({ $0 }).min(), next <= end else { break }
            now = max(now, next)
            if let index = queue.firstIndex(where: { $0.at <= now }) {
                let item = queue.remove(at: index)
                deliver(item.gateway, item.event)
            } else {
                for index in gateways.indices where gateways[index].running {
                    if let deadline = gateways[index].machine.nextDeadline, deadline <= now { deliver(index, .tick) }
                }
            }
        }
        now = end
    }

    private mutating func deliver(_ index: Int, _ event: GatewayMachine.Event) {
        guard gateways[index].running else { return }
        // A subscription ended: its notifications still on the way are not delivered.
        if case .rendezvous(let change) = event, !gateways[index].subscriptions.contains(change.key) { return }
        let effects = gateways[index].machine.handle(event, now: now)
        for effect in effects { perform(effect, by: index) }
        if router?.gateways.contains(index) == true { followLeadership() }
    }

    // MARK: the router

    /// As `RouterService.followLeadership`: each link is the exchange's while its gateway
    /// leads it, and each gateway leaves the other led links' islands to the exchange.
    private mutating func followLeadership() {
        guard let current = router else { return }
        let leading = current.gateways.map { gateways[$0].machine.role == .leader ? gateways[$0].machine.island : nil }
        guard leading != current.leading else { return }
        router?.leading = leading
        let siblings = LinkExchange.siblingIslands(leading: leading)
        for (link, index) in current.gateways.enumerated() {
            for effect in gateways[index].machine.setSiblingIslands(siblings[link]) { perform(effect, by: index) }
        }
        for link in leading.indices where leading[link] != current.leading[link] {
            routerPerform(router?.exchange.setLed(link, leading[link] != nil, now: now) ?? [])
        }
    }

    private mutating func routerObserve(_ event: LocalDomainEvent, on link: Int) {
        routerPerform(router?.exchange.observe(event, on: link, now: now) ?? [])
    }

    private mutating func routerPerform(_ effects: [LinkExchange.Effect]) {
        guard let current = router else { return }
        for effect in effects {
            switch effect {
            case .publish(let link, let key, let publication), .update(let link, let key, let publication):
                router?.publications[link][key] = publication
                guard case .synthesized(let host, let addresses) = publication.host else { continue }
                let service = ServiceInstance(name: publication.name, type: publication.type, host: host, port: publication.port,
                                              txt: publication.txt, subtypes: publication.subtypes, addresses: addresses)
                announce(island: current.islands[link], Announcement(service: service, publisher: Self.exchangePublisher))
            case .withdraw(let link, let key):
                guard let publication = router?.publications[link].removeValue(forKey: key) else { continue }
                retract(island: current.islands[link], ServiceID(name: publication.name, type: publication.type))
            case .fact:
                break
            }
        }
    }

    private mutating func enqueue(_ index: Int, _ event: GatewayMachine.Event) {
        queue.append((now + delay, index, event))
    }

    private mutating func perform(_ effect: GatewayMachine.Effect, by index: Int) {
        let gateway = gateways[index]
        switch effect {
        case .sendHeartbeat(let bytes, let endpoint):
            guard let target = gateways.firstIndex(where: { $0.endpoint == endpoint }),
                  !cutHeartbeats.contains([index, target].sorted()) else { return }
            if capturing { captured.append((index, target, bytes)) }
            enqueue(target, .heartbeat(bytes, from: gateway.endpoint))
        case .advertise(let publication):
            gateways[index].advert = publication
            let host = (try? HostName("gw\(index).local")) ?? .local
            let service = ServiceInstance(name: publication.name, type: publication.type, host: host, port: publication.port,
                                          txt: publication.txt, addresses: [address(of: gateway.endpoint)])
            announce(island: gateway.island, Announcement(service: service, publisher: index))
        case .publish(let key, let publication), .update(let key, let publication):
            gateways[index].publications[key] = publication
            guard case .synthesized(let host, let addresses) = publication.host else { return }
            let service = ServiceInstance(name: publication.name, type: publication.type, host: host, port: publication.port,
                                          txt: publication.txt, subtypes: publication.subtypes, addresses: addresses)
            announce(island: gateway.island, Announcement(service: service, publisher: index))
        case .withdraw(let key):
            retractPublication(index, key)
        case .joinRendezvous:
            gateways[index].inRendezvous = true
        case .leaveRendezvous:
            gateways[index].inRendezvous = false
        case .seedRendezvous(let endpoints):
            gateways[index].seeds += endpoints
        case .put(let key, let valueID, let payload):
            guard gateway.inRendezvous else { return }
            sequence += 1
            let value = RendezvousValue(key: key, owner: gateway.machine.settings.id, valueID: valueID, sequence: sequence, payload: payload)
            values[key, default: [:]][value.slot] = value
            notify(key, .upserted(value))
        case .remove(let key, let valueID):
            let slot = ValueSlot(owner: gateway.machine.settings.id, valueID: valueID)
            guard values[key]?.removeValue(forKey: slot) != nil else { return }
            notify(key, .removed(key, slot))
        case .subscribe(let key):
            gateways[index].subscriptions.insert(key)
            for value in (values[key] ?? [:]).values.sorted(by: { $0.slot < $1.slot }) { enqueue(index, .rendezvous(.upserted(value))) }
        case .unsubscribe(let key):
            gateways[index].subscriptions.remove(key)
        case .persistIsland(let island):
            gateways[index].persistedIsland = island
        case .fact(.rejected(let reason, _)):
            rejections[index, default: []].append(reason)
        case .fact, .relay:
            break
        }
    }

    private mutating func notify(_ key: RecordKey, _ change: RendezvousChange) {
        for index in gateways.indices where gateways[index].running && gateways[index].subscriptions.contains(key) {
            if case .removed = change {
                queue.append((now + delay + removalDelay, index, .rendezvous(change)))
            } else {
                enqueue(index, .rendezvous(change))
            }
        }
    }

    private mutating func retractPublication(_ index: Int, _ key: ImportKey) {
        guard let publication = gateways[index].publications.removeValue(forKey: key) else { return }
        retract(island: gateways[index].island, ServiceID(name: publication.name, type: publication.type))
    }

    private mutating func announce(island: Int, _ announcement: Announcement) {
        let id = announcement.service.id
        let isNew = links[island]?[id] == nil
        links[island, default: [:]][id] = announcement
        for index in gateways.indices where gateways[index].island == island {
            let service = discovered(announcement, by: index)
            enqueue(index, .local(isNew ? .added(service) : .changed(service)))
        }
        for link in router?.islands.indices.filter({ router?.islands[$0] == island }) ?? [] {
            let service = discovered(announcement, by: Self.exchangePublisher)
            routerObserve(isNew ? .added(service) : .changed(service), on: link)
        }
    }

    private mutating func retract(island: Int, _ id: ServiceID) {
        guard links[island]?.removeValue(forKey: id) != nil else { return }
        for index in gateways.indices where gateways[index].island == island { enqueue(index, .local(.removed(id))) }
        for link in router?.islands.indices.filter({ router?.islands[$0] == island }) ?? [] { routerObserve(.removed(id), on: link) }
    }

    private func discovered(_ announcement: Announcement, by viewer: Int) -> DiscoveredService {
        let origin: Origin = announcement.publisher == viewer ? [.local, .ourOwn] : []
        return DiscoveredService(instance: announcement.service, origin: origin,
                                 linkAddresses: announcement.service.addresses.map { LinkAddress(interface: 2, address: $0) })
    }

    private func address(of endpoint: Endpoint) -> IPAddress {
        switch endpoint.address {
        case .v4(let value): .v4(value)
        case .v6(let high, let low): .v6(high, low)
        }
    }
}
