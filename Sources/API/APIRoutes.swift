import Hummingbird
import Z2ZAPI

/// Every route of the local HTTP API, in one place. Handlers are in `APIHandlers`; paths
/// come from `APIPaths`, which the `z2z` client shares.
///
/// | method | path | answer |
/// |---|---|---|
/// | GET | /api/v1/status | `StatusResponse` |
/// | GET | /api/v1/islands | `IslandsResponse` |
/// | GET | /api/v1/peers | `PeersResponse` |
/// | GET | /api/v1/sip | `SIPResponse` |
/// | GET | /api/v1/services?origin=local\|imported&type=T | `ServicesResponse` |
/// | GET | /api/v1/policy/test?type=T&island=ID-or-NAME[&to=ID-or-NAME&name=N&host=H&address=A,B] | `PolicyTestResult` |
/// | GET | /api/v1/config/check | `ConfigCheckResult` for the daemon's configuration, re-read |
/// | POST | /api/v1/config/check (body: TOML text) | `ConfigCheckResult` for that text |
/// | GET | /api/v1/dht | `DHTResponse` |
/// | GET | /api/v1/events?after=N | `EventsResponse` |
/// | GET | /api/v1/events/stream?after=N | server-sent events, one `GatewayEvent` each |
/// | GET | /api/v1/explain?service=INSTANCE-OR-TYPE | `ExplainResponse` |
/// | GET | /metrics | Prometheus text exposition |
/// | GET | / | the dashboard (HTML) |
///
/// Deploy/openapi.yaml documents every route; a test holds the two together.
///
/// Every answer is JSON (`APIJSON`); errors are 4xx/5xx with an `APIErrorBody`.
public enum APIRoutes {
    /// One route: what `Deploy/openapi.json` must document (a test compares the two).
    public struct Route: Hashable, Sendable, CustomStringConvertible {
        public var method: String
        public var path: String
        public var description: String { "\(method) \(path)" }
    }

    /// The router; with `requestGuard`, requests it refuses get 403 before any route runs.
    public static func router(handlers: APIHandlers, requestGuard: RequestGuard? = nil) -> Router<BasicRequestContext> {
        build(handlers: handlers, requestGuard: requestGuard).router
    }

    /// Every route the router serves, as registered (not counting the JSON 404 fallback).
    public static func routes(handlers: APIHandlers) -> [Route] { build(handlers: handlers).routes }

    static func build(handlers: APIHandlers, requestGuard: RequestGuard? = nil) -> (router: Router<BasicRequestContext>, routes: [Route]) {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: LogRequestsMiddleware(.debug))
        if let requestGuard { router.add(middleware: RequestGuardMiddleware(requestGuard: requestGuard)) }
        var routes: [Route] = []
        func add(_ method: HTTPRequest.Method, _ path: String,
                 _ handler: @escaping @Sendable (Request) async throws -> Response) {
            router.on(RouterPath(path), method: method) { request, _ in try await handler(request) }
            routes.append(Route(method: method.rawValue, path: path))
        }
        add(.get, APIPaths.status) { _ in try await handlers.status() }
        add(.get, APIPaths.islands) { _ in try await handlers.islands() }
        add(.get, APIPaths.peers) { _ in try await handlers.peers() }
        add(.get, APIPaths.sip) { _ in try await handlers.sip() }
        add(.get, APIPaths.services) { request in try await handlers.services(query(request)) }
        add(.get, APIPaths.policyTest) { request in try await handlers.policyTest(query(request)) }
        add(.get, APIPaths.configCheck) { _ in try handlers.checkRunningConfiguration() }
        add(.post, APIPaths.configCheck) { request in
            var request = request
            return try await handlers.checkConfiguration(body: &request)
        }
        add(.get, APIPaths.dht) { _ in try await handlers.dht() }
        add(.get, APIPaths.events) { request in try await handlers.events(query(request)) }
        add(.get, APIPaths.eventStream) { request in try handlers.eventStream(request) }
        add(.get, APIPaths.explain) { request in try await handlers.explain(query(request)) }
        add(.get, APIPaths.metrics) { _ in try await handlers.metrics() }
        add(.get, APIPaths.dashboard) { _ in handlers.dashboard() }
        // Anything else under the API prefix: a JSON 404 rather than an empty one.
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on(RouterPath(APIPaths.prefix + "/**"), method: method) { request, _ -> Response in
                try APIHandlers.error(.notFound, reason: "not_found",
                                      "no route \(request.method) \(request.uri.path) in API v1")
            }
        }
        return (router, routes)
    }

    /// The query parameters, percent-decoded; the first of a repeated name counts.
    static func query(_ request: Request) -> [String: String] {
        Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first })
    }
}
