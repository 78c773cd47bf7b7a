import Kademlia
import Primitives

/// Read-after-write trials on a formed overlay: a random node of `among` puts a fresh record
/// under a key of its own, and the moment the put reports its acks another random node of
/// `among` gets the key; a get that does not return the record is a miss. `concurrent`
/// trials are in flight at once; the run ends after `trials` or 30 simulated minutes.
struct WriteReadTrials {
    var among: [Int]
    var trials: Int
    var concurrent: Int
    /// Names the trials' keys (`<prefix>-<trial>`), so runs do not share keys.
    var keyPrefix: String

    struct Outcome {
        var finished = 0
        /// Gets that missed the record, and trials that never finished.
        var misses = 0
        var putsWithoutAck = 0
        var acks: [Double] = []
        var putMilliseconds: [Double] = []
        var getMilliseconds: [Double] = []
    }

    func run(on simulation: Simulation) -> Outcome {
        var outcome = Outcome()
        var started = 0
        var expected: [UInt64: (key: RecordKey, owner: NodeID, sequence: UInt64)] = [:]
        let among = self.among, trials = self.trials, keyPrefix = self.keyPrefix
        func random(except excluded: Int? = nil) -> Int {
            var index = among[simulation.randomIndex(below: among.count)]
            while index == excluded, among.count > 1 { index = among[simulation.randomIndex(below: among.count)] }
            return index
        }
        func startTrial() {
            guard started < trials else { return }
            started += 1
            let trial = UInt64(started)
            let writer = random()
            let identity = simulation.node(writer).identity
            let key = RecordKey.make(network: simulation.networkID, namespace: "bench", name: "\(keyPrefix)-\(trial)")
            let record = identity.record(key: key, sequence: trial, ttl: 3_600, payload: Array("value \(trial)".utf8))
            expected[trial] = (key, identity.id, trial)
            simulation.command(writer, .put(RequestID(trial), record))
        }
        simulation.onEffect = { index, effect in
            guard case .completed(let request, let result) = effect, let want = expected[request.rawValue] else { return }
            switch result {
            case .put(let n, _, _, let report):
                outcome.acks.append(Double(n))
                outcome.putMilliseconds.append(report.duration.seconds * 1000)
                if n == 0 { outcome.putsWithoutAck += 1 }
                simulation.command(random(except: index), .get(request, want.key))
            case .get(let records, let report):
                outcome.getMilliseconds.append(report.duration.seconds * 1000)
                if !records.contains(where: { $0.owner == want.owner && $0.sequence == want.sequence }) { outcome.misses += 1 }
                expected[request.rawValue] = nil
                outcome.finished += 1
                startTrial()
            default:
                break
            }
        }
        for _ in 0..<concurrent { startTrial() }
        let begin = simulation.now
        while outcome.finished < trials, simulation.now.since(begin) < .minutes(30) { simulation.run(for: .seconds(1)) }
        simulation.onEffect = nil
        outcome.misses += trials - outcome.finished
        return outcome
    }
}
