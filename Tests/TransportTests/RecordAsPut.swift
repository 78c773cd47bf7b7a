import Kademlia

extension Record {
    /// The record as its owner put it, issue time and signature aside: a node with a wall
    /// clock signs its own records again with the time it puts them (`Record.issuedAt`).
    var asPut: [String] { ["\(key)", "\(slot)", "\(sequence)", "\(ttl)", "\(isTombstone)", "\(payload)"] }
}
