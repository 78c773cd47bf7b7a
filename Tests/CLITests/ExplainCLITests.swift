import Foundation
import Testing
import Z2ZAPI

/// `z2z explain` and `z2z events` as a person reads them, against a real API server.
@Suite(.timeLimit(.minutes(2)))
struct ExplainCLITests {
    static let denied = ExplainResponse(
        query: "Build Box", role: .leader,
        traces: [ServiceTrace(
            instance: "Build Box", type: "_ssh._tcp", island: IslandRef(id: CLIFixture.officeID, name: "office"), direction: .outbound,
            steps: [TraceStep(step: .seenLocally, outcome: .passed, detail: "on box.local:22 [192.0.2.5]"),
                    TraceStep(step: .exportPolicy, outcome: .failed, detail: "denied by rule 1 (line 12): deny export type=_ssh._tcp island=*",
                              reason: "denied_by_policy")],
            crossed: false, verdict: "stops at export_policy: denied by rule 1 (line 12): deny export type=_ssh._tcp island=*")],
        summary: "1 instance, 0 crossing")

    @Test func explainPrintsEveryStepAndOneLineVerdictAndExitsThreeWhenItStops() async throws {
        try await withDaemon { api, source in
            source.update { $0.explanations["Build Box"] = Self.denied }
            let result = try await z2z(["explain", "Build Box", "--api", api])
            #expect(result.status == 3, "\(result)")
            #expect(result.stdout == """
                Build Box [_ssh._tcp] from this island
                  ok   seen locally: on box.local:22 [192.0.2.5]
                  STOP export policy: denied by rule 1 (line 12): deny export type=_ssh._tcp island=*
                  => stops at export_policy: denied by rule 1 (line 12): deny export type=_ssh._tcp island=*

                1 instance, 0 crossing

                """)
            let nothing = try await z2z(["explain", "Nowhere", "--api", api])
            #expect(nothing.status == 3 && nothing.stdout.contains("no service Nowhere is known"))
        }
    }

    @Test func explainSaysARelayedImportCrossesAndThroughWhom() async throws {
        let verdict = "crosses: imported on this link as \"Camera\", relayed via leader 77aa88bb: LAN not routed"
        let relayed = ExplainResponse(
            query: "Camera", role: .leader,
            traces: [ServiceTrace(
                instance: "Camera", type: "_rtsp._tcp", island: IslandRef(id: CLIFixture.labID, name: "lab"), direction: .inbound,
                steps: [TraceStep(step: .imported, outcome: .passed,
                                  detail: "published on this link as \"Camera\", relayed via leader 77aa88bb: LAN not routed")],
                crossed: true, verdict: verdict,
                route: ImportRoute(path: .relayed, reason: "lan_not_routed", relayLeader: "77aa88bb", summary: "relayed via leader 77aa88bb: LAN not routed"))],
            summary: "1 instance, 1 crossing")
        try await withDaemon { api, source in
            source.update { $0.explanations["Camera"] = relayed }
            let result = try await z2z(["explain", "Camera", "--api", api])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("  => \(verdict)\n"))
            let json = try await z2z(["explain", "Camera", "--json", "--api", api])
            #expect(try APIJSON.decoder().decode(ExplainResponse.self, from: Data(json.stdout.utf8)) == relayed)
        }
    }

    @Test func eventsPrintsOneLinePerEventWithItsReason() async throws {
        try await withDaemon { api, source in
            source.update {
                $0.events = [GatewayEvent(sequence: 1, time: Date(timeIntervalSince1970: 1_800_000_000), kind: .rejected,
                                          reason: "record_bad_signature", message: "owner 3f2a")]
            }
            let result = try await z2z(["events", "--api", api])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == "2027-01-15T08:00:00Z rejected         owner 3f2a [record_bad_signature]\n")
        }
    }
}
