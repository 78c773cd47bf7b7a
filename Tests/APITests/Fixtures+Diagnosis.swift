import Foundation
import Z2ZAPI

/// The diagnosis part of the fixture gateway: a DHT with one contact, value and lookup, two
/// events, an explanation of `_ipp._tcp`, and a metrics text.
extension Fixture {
    static let dht = DHTResponse(
        engine: "native", available: true, nodeID: nodeID, stage: "interconnection", overlayID: "5eed",
        routingTable: [DHTResponse.Contact(id: String(repeating: "cd", count: 32), endpoint: "198.51.100.7:7400", bucket: 0,
                                           lastSeenSecondsAgo: 1.5, failures: 0)],
        storedValues: [DHTResponse.StoredValue(key: String(repeating: "01", count: 32), owner: nodeID, valueID: "2a",
                                               sequence: 7, bytes: 120, tombstone: false, expiresInSeconds: 290)],
        activeLookups: [DHTResponse.Lookup(target: String(repeating: "02", count: 32), purpose: "get", queries: 3, inFlight: 1,
                                           candidates: 8)],
        subscriptions: 2, rttMilliseconds: 1.25,
        bridging: DHTResponse.Bridging(unreachableMembers: 1, bridgedMembers: 0, forwardedRecords: 0))

    static let events = [
        GatewayEvent(sequence: 1, time: seen, kind: .transition, subject: nodeID, reason: "leader", message: "leader, term 1"),
        GatewayEvent(sequence: 2, time: seen, kind: .exportSkipped, subject: "SSH._ssh._tcp", reason: "denied_by_policy",
                     message: "not exported: denied by rule 1"),
    ]

    static let explanation = ExplainResponse(
        query: "_ipp._tcp", role: .leader,
        traces: [ServiceTrace(
            instance: "Lab Printer; 2nd floor", type: "_ipp._tcp", island: IslandRef(id: officeID, name: "office"),
            direction: .outbound,
            steps: [TraceStep(step: .seenLocally, outcome: .passed, detail: "on printer.local:631"),
                    TraceStep(step: .exportPolicy, outcome: .passed, detail: "permitted by default: permit")],
            crossed: true, verdict: "crosses")],
        summary: "1 instance, 1 crossing")

    static var diagnosisSnapshot: StaticGatewayState.Snapshot {
        var snapshot = self.snapshot
        snapshot.dht = dht
        snapshot.events = events
        snapshot.explanations = ["_ipp._tcp": explanation]
        snapshot.metrics = "# TYPE z2z_leader gauge\nz2z_leader 1\n"
        return snapshot
    }
}
