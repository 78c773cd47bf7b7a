import Foundation
import Kademlia
import Primitives

/// Global knowledge a simulation has and nodes do not: the true k closest live nodes to
/// any point, to judge routing tables and lookups against.
public struct Oracle: Sendable {
    /// Live node ids, sorted.
    public let ids: [NodeID]
    public let indexByID: [NodeID: Int]

    public init(_ simulation: Simulation) {
        var pairs: [(NodeID, Int)] = []
        for i in simulation.liveIndices { pairs.append((simulation.node(i).id, i)) }
        pairs.sort { $0.0 < $1.0 }
        ids = pairs.map(\.0)
        indexByID = Dictionary(uniqueKeysWithValues: pairs)
    }

    /// The `count` live ids closest to `target` (XOR), closest first, leaving out `excluding`.
    /// Finds the smallest prefix block around `target` holding enough ids, then sorts it.
    public func closest(to target: NodeID, count: Int, excluding: NodeID? = nil) -> [NodeID] {
        let need = count + (excluding == nil ? 0 : 1)
        // Any prefix block around the target that holds `need` ids holds the `need`
        // closest; start near the expected size and widen.
        var prefix = max(0, min(256, Int(log2(Double(max(1, ids.count)) / Double(max(1, need)))) - 1))
        var range = 0..<0
        while prefix >= 0 {
            range = block(of: target, prefix: prefix)
            if range.count >= need || prefix == 0 { break }
            prefix -= 1
        }
        return ids[range].filter { $0 != excluding }
            .sorted { $0.distance(to: target) < $1.distance(to: target) }
            .prefix(count).map { $0 }
    }

    /// Ids sharing the first `prefix` bits with `target`.
    func block(of target: NodeID, prefix: Int) -> Range<Int> {
        let (lo, hi) = Self.bounds(target, prefix: prefix)
        return lowerBound(lo)..<upperBound(hi)
    }

    static func bounds(_ t: NodeID, prefix: Int) -> (NodeID, NodeID) {
        var lo = [t.w0, t.w1, t.w2, t.w3], hi = lo
        for w in 0..<4 {
            let keep = max(0, min(64, prefix - 64 * w))
            let mask: UInt64 = keep == 0 ? 0 : (keep == 64 ? ~0 : ~0 << UInt64(64 - keep))
            lo[w] &= mask
            hi[w] = (hi[w] & mask) | ~mask
        }
        return (NodeID(w0: lo[0], w1: lo[1], w2: lo[2], w3: lo[3]), NodeID(w0: hi[0], w1: hi[1], w2: hi[2], w3: hi[3]))
    }

    private func lowerBound(_ x: NodeID) -> Int {
        var lo = 0, hi = ids.count
        while lo < hi { let m = (lo + hi) / 2; if ids[m] < x { lo = m + 1 } else { hi = m } }
        return lo
    }

    private func upperBound(_ x: NodeID) -> Int {
        var lo = 0, hi = ids.count
        while lo < hi { let m = (lo + hi) / 2; if ids[m] <= x { lo = m + 1 } else { hi = m } }
        return lo
    }

    /// Whether node `index`'s table holds all of its true k closest live peers.
    public func holdsTrueNeighbourhood(_ simulation: Simulation, _ index: Int) -> Bool {
        let node = simulation.node(index)
        let truth = closest(to: node.id, count: node.configuration.k, excluding: node.id)
        return truth.allSatisfy { node.table.contains($0) }
    }

    /// How many live nodes hold their true k closest.
    public func neighbourhoodCompleteness(_ simulation: Simulation) -> (complete: Int, total: Int) {
        let live = simulation.liveIndices
        return (live.filter { holdsTrueNeighbourhood(simulation, $0) }.count, live.count)
    }
}
