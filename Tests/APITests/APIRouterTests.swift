import API
import Config
import Foundation
import Hummingbird
import NIOCore
import Testing
import Z2ZAPI

/// Every route, against a real server on 127.0.0.1, backed by the in-memory gateway.
struct APIRouterTests {
    let source = StaticGatewayState(Fixture.snapshot)

    func withClient(configuration: (any RunningConfiguration)? = nil,
                    _ test: @Sendable @escaping (LiveClient) async throws -> Void) async throws {
        let server = try await RunningAPIServer.start(source: source,
                                                      configuration: try configuration ?? FixedConfiguration(Fixture.configuration))
        do {
            try await test(LiveClient(port: server.port))
        } catch {
            try await server.stop()
            throw error
        }
        try await server.stop()
    }

    static func decode<T: Decodable>(_ type: T.Type, _ response: LiveClient.Response) throws -> T {
        try APIJSON.decoder().decode(T.self, from: Data(String(buffer: response.body).utf8))
    }

    @Test func statusAnswersTheSourcesStatusAsJSON() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/v1/status", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(response.headers["content-type"] == "application/json; charset=utf-8")
                #expect(try Self.decode(StatusResponse.self, response) == Fixture.status)
            }
        }
    }

    @Test func islandsAndPeersAnswerWrappedLists() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/v1/islands", method: .get) { response async throws in
                #expect(try Self.decode(IslandsResponse.self, response).islands == Fixture.snapshot.islands)
            }
            try await client.execute(uri: "/api/v1/peers", method: .get) { response async throws in
                #expect(try Self.decode(PeersResponse.self, response).peers == Fixture.snapshot.peers)
            }
        }
    }

    @Test func servicesFilterByOriginAndType() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/v1/services", method: .get) { response async throws in
                #expect(try Self.decode(ServicesResponse.self, response).services.map(\.name) == ["Lab Printer; 2nd floor", "Camera"])
            }
            try await client.execute(uri: "/api/v1/services?origin=imported", method: .get) { response async throws in
                #expect(try Self.decode(ServicesResponse.self, response).services.map(\.name) == ["Camera"])
            }
            try await client.execute(uri: "/api/v1/services?type=_IPP._tcp", method: .get) { response async throws in
                #expect(try Self.decode(ServicesResponse.self, response).services.map(\.name) == ["Lab Printer; 2nd floor"])
            }
            try await client.execute(uri: "/api/v1/services?origin=local&type=_rtsp._tcp", method: .get) { response async throws in
                #expect(try Self.decode(ServicesResponse.self, response).services.isEmpty)
            }
        }
    }

    @Test func badServiceFiltersAre400WithAReason() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/v1/services?origin=remote", method: .get) { response async throws in
                #expect(response.status == .badRequest)
                let body = try Self.decode(APIErrorBody.self, response)
                #expect(body.error.reason == "bad_request" && body.error.message.contains("local"))
            }
            try await client.execute(uri: "/api/v1/services?type=ipp", method: .get) { response async throws in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func policyTestNamesTheDecidingRuleForBothDirections() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/v1/policy/test?type=_ssh._tcp&island=lab", method: .get) { response async throws in
                #expect(response.status == .ok)
                let result = try Self.decode(PolicyTestResult.self, response)
                #expect(result.type == "_ssh._tcp")
                // The name was completed with the id the gateway knows.
                #expect(result.island == IslandRef(id: Fixture.labID, name: "lab"))
                #expect(result.exportVerdict.action == .deny && result.exportVerdict.ruleNumber == 1)
                #expect(result.exportVerdict.ruleLine == 3)
                #expect(result.importVerdict == PolicyVerdict(
                    action: .permit, ruleNumber: 2, ruleLine: 7, rule: "permit import type=* island=lab",
                    explanation: "rule 2 (line 7): permit import type=* island=lab"))
            }
        }
    }

    /// `z2z policy test TYPE FROM TO`: one crossing, the source's export rules then the
    /// destination's import rules; without `to` no crossing is answered.
    @Test func policyTestWithADestinationAnswersForTheCrossing() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/v1/policy/test?type=_ipp._tcp&island=lab&to=office", method: .get) { response async throws in
                let result = try Self.decode(PolicyTestResult.self, response)
                #expect(result.destination?.name == "office")
                #expect(result.crossing?.action == .permit && result.crossing?.ruleNumber == 2)
            }
            try await client.execute(uri: "/api/v1/policy/test?type=_ssh._tcp&island=lab&to=office", method: .get) { response async throws in
                let result = try Self.decode(PolicyTestResult.self, response)
                #expect(result.crossing?.action == .deny && result.crossing?.ruleNumber == 1, "denied on its way out")
            }
            try await client.execute(uri: "/api/v1/policy/test?type=_ipp._tcp&island=lab", method: .get) { response async throws in
                let result = try Self.decode(PolicyTestResult.self, response)
                #expect(result.crossing == nil && result.destination == nil)
            }
            try await client.execute(uri: "/api/v1/policy/test?type=_ipp._tcp&island=lab&to=", method: .get) { response async throws in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func policyTestByIdFindsTheNameAndAnUnknownIslandFallsToTheDefault() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/v1/policy/test?type=_ipp._tcp&island=\(Fixture.labID)", method: .get) { response async throws in
                let result = try Self.decode(PolicyTestResult.self, response)
                #expect(result.island.name == "lab")
                #expect(result.importVerdict.ruleNumber == 2)
            }
            try await client.execute(uri: "/api/v1/policy/test?type=_ipp._tcp&island=nowhere", method: .get) { response async throws in
                let result = try Self.decode(PolicyTestResult.self, response)
                #expect(result.island == IslandRef(id: nil, name: "nowhere"))
                #expect(result.importVerdict.action == .deny && result.importVerdict.ruleNumber == nil)
                #expect(result.importVerdict.explanation == "default: deny")
                #expect(result.exportVerdict.ruleNumber == 3)
            }
        }
    }

    @Test func policyTestNeedsATypeAndAnIsland() async throws {
        try await withClient { client in
            for uri in ["/api/v1/policy/test", "/api/v1/policy/test?type=_ipp._tcp", "/api/v1/policy/test?type=x&island=lab"] {
                try await client.execute(uri: uri, method: .get) { response async throws in
                    #expect(response.status == .badRequest, "\(uri)")
                }
            }
        }
    }

    @Test func postedConfigurationIsCheckedWithKeysAndLines() async throws {
        try await withClient { client in
            let bad = ByteBuffer(string: "[dht]\nport = 70000\n[sip]\nenabeld = true\n")
            try await client.execute(uri: "/api/v1/config/check", method: .post, body: bad) { response async throws in
                #expect(response.status == .ok)
                let result = try Self.decode(ConfigCheckResult.self, response)
                #expect(!result.ok && result.file == nil)
                #expect(result.problems.map(\.key) == ["dht.port", "sip.enabeld"])
                #expect(result.problems.map(\.line) == [2, 4])
                #expect(result.problems.map(\.reason) == ["out_of_range", "unknown_key"])
                #expect(result.problems[0].source == "file")
            }
            try await client.execute(uri: "/api/v1/config/check", method: .post, body: ByteBuffer(string: "network = \"x\"")) { response async throws in
                #expect(try Self.decode(ConfigCheckResult.self, response) == ConfigCheckResult(ok: true, file: nil, problems: []))
            }
            try await client.execute(uri: "/api/v1/config/check", method: .post, body: ByteBuffer(string: "a = [")) { response async throws in
                let result = try Self.decode(ConfigCheckResult.self, response)
                #expect(result.problems.first?.reason == "syntax" && result.problems.first?.line == 1)
            }
        }
    }

    @Test func getConfigCheckReReadsTheRunningFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("z2z-api-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/z2z.toml"
        try "network = \"ok\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let live = try ReloadableConfiguration(loader: ConfigurationLoader(configFile: file, environment: [:]))

        try await withClient(configuration: live) { client in
            try await client.execute(uri: "/api/v1/config/check", method: .get) { response async throws in
                #expect(try Self.decode(ConfigCheckResult.self, response) == ConfigCheckResult(ok: true, file: file, problems: []))
            }
            try "network = \"ok\"\n[island]\npriority = -1\n".write(toFile: file, atomically: true, encoding: .utf8)
            try await client.execute(uri: "/api/v1/config/check", method: .get) { response async throws in
                let result = try Self.decode(ConfigCheckResult.self, response)
                #expect(!result.ok && result.file == file)
                #expect(result.problems.first?.description == "\(file):3: island.priority: -1 is out of range (0 to 255)")
            }
        }
        // Checking applied nothing.
        #expect(live.current.island.priority == 100)
    }

    @Test func unknownAPIRoutesAnswerJSON404() async throws {
        try await withClient { client in
            try await client.execute(uri: "/api/v1/nothing/here", method: .get) { response async throws in
                #expect(response.status == .notFound)
                let body = try Self.decode(APIErrorBody.self, response)
                #expect(body.error.reason == "not_found")
            }
            try await client.execute(uri: "/api/v2/status", method: .get) { response async throws in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func theAnswerFollowsTheSourceFromRequestToRequest() async throws {
        try await withClient { client in
            source.update { $0.status.health = Health(state: .degraded, reasons: ["no other island reachable"]) }
            try await client.execute(uri: "/api/v1/status", method: .get) { response async throws in
                #expect(try Self.decode(StatusResponse.self, response).health.reasons == ["no other island reachable"])
            }
        }
    }
}
