import API
import Config
import Foundation
import Testbed
import Testing
import Z2ZAPI

/// Deploy/openapi.json and the server agree: every documented operation answers as
/// documented, and every route the server has is documented.
struct OpenAPIContractTests {
    @Test(.timeLimit(.minutes(1)))
    func everyDocumentedOperationAnswersWithItsDocumentedSchema() async throws {
        let contract = try OpenAPIContract()
        let source = StaticGatewayState(Fixture.diagnosisSnapshot)
        let server = try await RunningAPIServer.start(source: source, configuration: FixedConfiguration(try Fixture.configuration))
        let violations = await contract.check(base: "http://127.0.0.1:\(server.port)")
        try await server.stop()
        #expect(violations.isEmpty, "\(violations.map(\.description).joined(separator: "\n"))")
        #expect(contract.operations.count >= 14)
    }

    @Test func everyRouteOfTheServerIsDocumentedAndNothingElse() throws {
        let contract = try OpenAPIContract()
        let handlers = APIHandlers(source: StaticGatewayState(Fixture.snapshot), configuration: FixedConfiguration())
        let served = Set(APIRoutes.routes(handlers: handlers).map { "\($0.method) \($0.path)" })
        let documented = Set(contract.operations.map(\.description))
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")
    }

    /// A router's status (its links, each with its gateway) as the documented schema says.
    @Test func aRoutersStatusWithItsLinkGatewaysIsDocumented() throws {
        let contract = try OpenAPIContract()
        var status = Fixture.status
        let gateway = LinkGatewayInfo(nodeID: String(repeating: "a", count: 64), role: .follower, leaderID: String(repeating: "b", count: 64),
                                      island: "1a2b3c4d5e6f7081", stage: .bootstrapping, peerCount: 1, imported: 0, exported: 0, port: 7404)
        status.links = [LinkInfo(name: "staff", interface: "lan0", island: "1a2b3c4d5e6f7081", local: 1, imported: 0, held: 0,
                                 avahi: AvahiStatus(state: .connected), inExchange: false, gateway: gateway)]
        let json = try JSONDecoder().decode(JSONValue.self, from: try APIJSON.encoder().encode(status))
        try contract.validate(json, against: ["$ref": "#/components/schemas/StatusResponse"], at: "$", operation: "status")
        guard case .object(let object) = json, case .array(let links)? = object["links"], case .object(let link)? = links.first,
              case .object(let fields)? = link["gateway"] else {
            Issue.record("no link gateway in \(json)")
            return
        }
        #expect(link["in_exchange"] != nil && fields["peer_count"] != nil && fields["node_id"] != nil)
        let schema = try #require(contract.schema("LinkGatewayInfo"))
        let documented = Set((schema["properties"] as? [String: Any] ?? [:]).keys)
        #expect(documented == Set(fields.keys), "every field documented, nothing else")
    }

    @Test func theCheckerCatchesAMissingRequiredFieldAndAWrongType() throws {
        let contract = try OpenAPIContract()
        let schema: [String: Any] = ["$ref": "#/components/schemas/EventsResponse"]
        let missing = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"events": []}"#.utf8))
        #expect(throws: OpenAPIContract.Violation.self) { try contract.validate(missing, against: schema, at: "$", operation: "t") }
        let wrong = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"events": [{"sequence": "1", "time": "x", "kind": "k", "message": "m"}], "last": 1}"#.utf8))
        #expect(throws: OpenAPIContract.Violation.self) { try contract.validate(wrong, against: schema, at: "$", operation: "t") }
        let right = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"events": [{"sequence": 1, "time": "x", "kind": "k", "message": "m"}], "last": 1}"#.utf8))
        try contract.validate(right, against: schema, at: "$", operation: "t")
    }
}
