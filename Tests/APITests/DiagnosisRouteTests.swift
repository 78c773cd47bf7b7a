import API
import Config
import Foundation
import Testing
import Z2ZAPI

/// The diagnosis routes against a real server on 127.0.0.1: DHT, events (polled and
/// streamed), explain, metrics and the dashboard.
struct DiagnosisRouteTests {
    func withServer(_ test: @Sendable (LiveClient) async throws -> Void) async throws {
        let source = StaticGatewayState(Fixture.diagnosisSnapshot)
        let server = try await RunningAPIServer.start(source: source, configuration: FixedConfiguration(try Fixture.configuration))
        do { try await test(LiveClient(port: server.port)) } catch {
            try await server.stop()
            throw error
        }
        try await server.stop()
    }

    static func decode<T: Decodable>(_ type: T.Type, _ response: LiveClient.Response) throws -> T {
        try APIJSON.decoder().decode(T.self, from: Data(response.body.readableBytesView))
    }

    @Test(.timeLimit(.minutes(1)))
    func eventsAnswerOnlyWhatIsNewerThanAfterAndRefuseABadOne() async throws {
        try await withServer { client in
            try await client.execute(uri: "/api/v1/events?after=1", method: .get) { response async throws in
                let events = try Self.decode(EventsResponse.self, response)
                #expect(events.events.map(\.sequence) == [2] && events.last == 2)
                #expect(events.events.first?.reason == "denied_by_policy")
            }
            try await client.execute(uri: "/api/v1/events?after=minus-one", method: .get) { response async throws in
                #expect(response.status == .badRequest)
                #expect(try Self.decode(APIErrorBody.self, response).error.reason == "bad_request")
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func theEventStreamSendsEachNewEventAsServerSentEventsAndEnds() async throws {
        try await withServer { client in
            try await client.execute(uri: "/api/v1/events/stream?after=1&seconds=1", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(response.headers["content-type"] == "text/event-stream")
                let text = String(buffer: response.body)
                #expect(text.hasPrefix("retry: 1000\n\n"))
                #expect(text.contains("id: 2\ndata: {"))
                #expect(!text.contains("id: 1\n"))
                let data = try #require(text.split(separator: "\n").first { $0.hasPrefix("data: ") }?.dropFirst(6))
                #expect(try APIJSON.decoder().decode(GatewayEvent.self, from: Data(data.utf8)) == Fixture.events[1])
            }
            try await client.execute(uri: "/api/v1/events/stream?seconds=600", method: .get) { response async throws in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func explainNeedsAServiceAndAnswersTheSourcesTrace() async throws {
        try await withServer { client in
            try await client.execute(uri: "/api/v1/explain?service=_ipp._tcp", method: .get) { response async throws in
                #expect(try Self.decode(ExplainResponse.self, response) == Fixture.explanation)
            }
            try await client.execute(uri: "/api/v1/explain", method: .get) { response async throws in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func dhtMetricsAndTheDashboardAnswerWithTheirTypes() async throws {
        try await withServer { client in
            try await client.execute(uri: "/api/v1/dht", method: .get) { response async throws in
                #expect(try Self.decode(DHTResponse.self, response) == Fixture.dht)
            }
            try await client.execute(uri: "/metrics", method: .get) { response async throws in
                #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
                #expect(String(buffer: response.body) == "# TYPE z2z_leader gauge\nz2z_leader 1\n")
            }
            try await client.execute(uri: "/", method: .get) { response async throws in
                #expect(response.headers["content-type"] == "text/html; charset=utf-8")
                let page = String(buffer: response.body)
                for id in ["id=\"services\"", "id=\"islands\"", "id=\"events\"", "/events/stream"] { #expect(page.contains(id)) }
            }
        }
    }
}
