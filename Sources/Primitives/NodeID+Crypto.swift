import Crypto

extension NodeID {
    /// A node's id: the SHA-256 of its raw Ed25519 public key.
    public init(publicKey: [UInt8]) {
        self.init(bytes: Array(SHA256.hash(data: publicKey)))
    }
}

extension NetworkID {
    /// The first 8 bytes of SHA-256 over a network's name.
    public init(name: String) {
        let digest = Array(SHA256.hash(data: Array("z2z-network:\(name)".utf8)))
        self.init(rawValue: digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) })
    }
}

extension RecordKey {
    /// SHA-256 over (network id, namespace, name), each length-prefixed so that no two
    /// different triples hash the same bytes.
    public static func make(network: NetworkID, namespace: String, name: String) -> RecordKey {
        var w = ByteWriter()
        w.bytes(Array("z2z-key".utf8))
        w.u64(network.rawValue)
        let ns = Array(namespace.utf8), nm = Array(name.utf8)
        w.u32(UInt32(ns.count))
        w.bytes(ns)
        w.u32(UInt32(nm.count))
        w.bytes(nm)
        return RecordKey(point: NodeID(bytes: Array(SHA256.hash(data: w.buffer))))
    }
}
