import Config
import DNSSD
import Foundation
import Hummingbird
import Policy
import Z2ZAPI

/// The API's request handlers: ask the gateway, filter, encode. Plain async methods over a
/// `GatewayStateSource` and the running configuration, so the routes stay one list.
public struct APIHandlers: Sendable {
    public let source: any GatewayStateSource
    public let configuration: any RunningConfiguration
    /// Checks posted texts (`ConfigCheckerProcess` in the daemon).
    public let checker: any ConfigTextChecker

    /// Larger `POST /config/check` bodies are refused: 64 KiB, many times any real
    /// configuration (Deploy/z2z.toml, every key documented, is under 20 KiB). The loader
    /// takes files up to 1 MiB; a request body is held in memory while it arrives.
    public static let maximumBodySize = 64 * 1024

    public init(source: any GatewayStateSource, configuration: any RunningConfiguration,
                checker: any ConfigTextChecker = InProcessConfigChecker()) {
        self.source = source
        self.configuration = configuration
        self.checker = checker
    }

    func status() async throws -> Response { try Self.json(await source.status()) }

    func islands() async throws -> Response { try Self.json(IslandsResponse(islands: await source.islands())) }
    func sip() async throws -> Response {
        let service = await source.sipService()
        return try Self.json(SIPResponse(agents: await source.sipAgents(), registrations: service.registrations,
                                         contactChecks: service.contactChecks))
    }

    func peers() async throws -> Response { try Self.json(PeersResponse(peers: await source.peers())) }

    func services(_ query: [String: String]) async throws -> Response {
        var origin: ServiceOrigin?
        if let text = query["origin"] {
            guard [ServiceOrigin.local, .imported].contains(ServiceOrigin(rawValue: text)) else {
                return try Self.error(.badRequest, reason: "bad_request", "origin must be \"local\" or \"imported\", not \"\(text)\"")
            }
            origin = ServiceOrigin(rawValue: text)
        }
        var type: ServiceType?
        if let text = query["type"] {
            do { type = try ServiceType(text) } catch {
                return try Self.error(.badRequest, reason: "bad_request", "type \"\(text)\": \(error)")
            }
        }
        let services = await source.services().filter { service in
            (origin == nil || service.origin == origin) && (type.map { Self.sameType(service.type, $0) } ?? true)
        }
        return try Self.json(ServicesResponse(services: services))
    }

    /// `type` and `island` are required; `name`, `host` and `address` (comma-separated
    /// addresses) describe one instance, for rules that pick instances by them.
    func policyTest(_ query: [String: String]) async throws -> Response {
        guard let typeText = query["type"], let islandText = query["island"], !islandText.isEmpty else {
            return try Self.error(.badRequest, reason: "bad_request", "give type=SERVICE-TYPE and island=ISLAND-ID-OR-NAME")
        }
        var service: PolicyService
        do { service = PolicyService(type: try ServiceType(typeText)) } catch {
            return try Self.error(.badRequest, reason: "bad_request", "type \"\(typeText)\": \(error)")
        }
        if let text = query["name"] {
            do { service.name = try InstanceName(text) } catch {
                return try Self.error(.badRequest, reason: "bad_request", "name \"\(text)\": \(error)")
            }
        }
        if let text = query["host"] {
            do { service.host = try HostName(text) } catch {
                return try Self.error(.badRequest, reason: "bad_request", "host \"\(text)\": \(error)")
            }
        }
        for text in query["address"].map({ $0.split(separator: ",").map(String.init) }) ?? [] {
            do { service.addresses.append(try IPAddress(text)) } catch {
                return try Self.error(.badRequest, reason: "bad_request", "address \"\(text)\": \(error)")
            }
        }
        // The island completed to id and name as the gateway knows it, so a rule naming it
        // either way decides here as it does in the running gateway (`PolicyGate`).
        let island = await resolve(island: islandText)
        let policy = configuration.current.policy
        // With `to`: a crossing from `island` to that island or link (rules naming from and to).
        var destination: IslandRef?
        if let text = query["to"] {
            guard !text.isEmpty else { return try Self.error(.badRequest, reason: "bad_request", "to: give an island id or name") }
            destination = await resolve(island: text)
        }
        let to = destination?.policyIsland
        let verdicts = (export: policy.evaluate(direction: .export, service: service, island: island.policyIsland, destination: to),
                        import: policy.evaluate(direction: .import, service: service, island: island.policyIsland, destination: to))
        func passedOver(_ direction: PolicyDirection) -> [Int] {
            policy.passedOver(direction: direction, service: service, island: island.policyIsland)
        }
        let crossing = to.map { PolicyVerdict(PolicyGate(policy: policy).crossingVerdict(service, from: island.policyIsland, to: $0)) }
        return try Self.json(PolicyTestResult(
            type: service.type.description, island: island, name: service.name?.value, host: service.host?.value,
            addresses: service.addresses.isEmpty ? nil : service.addresses.map(\.description),
            exportVerdict: PolicyVerdict(verdicts.export, passedOver: passedOver(.export)),
            importVerdict: PolicyVerdict(verdicts.import, passedOver: passedOver(.import)),
            destination: destination, crossing: crossing))
    }

    /// An island named by id or name, completed from the islands the gateway knows.
    func resolve(island text: String) async -> IslandRef {
        IslandRef.resolve(text, among: await source.islands())
    }

    func checkRunningConfiguration() throws -> Response {
        try Self.json(ConfigCheckResult(file: configuration.file, result: configuration.check()))
    }

    func checkConfiguration(body request: inout Request) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maximumBodySize)
        } catch {
            return try Self.error(.contentTooLarge, reason: "bad_request",
                                  "a configuration has at most \(Self.maximumBodySize) bytes")
        }
        guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
            return try Self.error(.badRequest, reason: "bad_request", "the body is not UTF-8 text")
        }
        return try Self.json(await checker.check(text))
    }

    // MARK: encoding

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try APIJSON.encoder().encode(value)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, reason: String, _ message: String) throws -> Response {
        try json(APIErrorBody(reason: reason, message: message), status: status)
    }

    /// Service types compare case-insensitively, like the DNS names they are.
    static func sameType(_ text: String, _ type: ServiceType) -> Bool {
        text.lowercased() == type.description.lowercased()
    }
}
