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
/// | GET | /api/v1/policy/test?type=T&island=ID-or-NAME | `PolicyTestResult` |
/// | GET | /api/v1/config/check | `ConfigCheckResult` for the daemon's configuration, re-read |
/// | POST | /api/v1/config/check (body: TOML text) | `ConfigCheckResult` for that text |
///
/// Every answer is JSON (`APIJSON`); errors are 4xx/5xx with an `APIErrorBody`.
public enum APIRoutes {
    public static func router(handlers: APIHandlers) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.get(RouterPath(APIPaths.status)) { _, _ in try await handlers.status() }
        router.get(RouterPath(APIPaths.islands)) { _, _ in try await handlers.islands() }
        router.get(RouterPath(APIPaths.peers)) { _, _ in try await handlers.peers() }
        router.get(RouterPath(APIPaths.sip)) { _, _ in try await handlers.sip() }
        router.get(RouterPath(APIPaths.services)) { request, _ in try await handlers.services(query(request)) }
        router.get(RouterPath(APIPaths.policyTest)) { request, _ in try await handlers.policyTest(query(request)) }
        router.get(RouterPath(APIPaths.configCheck)) { _, _ in try handlers.checkRunningConfiguration() }
        router.post(RouterPath(APIPaths.configCheck)) { request, _ in
            var request = request
            return try await handlers.checkConfiguration(body: &request)
        }
        // Anything else under the API prefix: a JSON 404 rather than an empty one.
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on(RouterPath(APIPaths.prefix + "/**"), method: method) { request, _ -> Response in
                try APIHandlers.error(.notFound, reason: "not_found",
                                      "no route \(request.method) \(request.uri.path) in API v1")
            }
        }
        return router
    }

    /// The query parameters, percent-decoded; the first of a repeated name counts.
    static func query(_ request: Request) -> [String: String] {
        Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first })
    }
}
