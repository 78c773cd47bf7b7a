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
