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
