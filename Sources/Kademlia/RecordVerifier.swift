import Crypto
import Primitives

/// Checks a record's owner binding and signature. The node takes one as a parameter so the
/// simulator may share a cache of results across its thousands of nodes; the transport
/// and the tests use `Ed25519Verifier`, which verifies every time.
public protocol RecordVerifier: Sendable {
    /// `nil` when the record is authentic, else `.wrongOwner` or `.badSignature`.
    func check(_ record: Record) -> RecordRejection?
}

/// Verifies `owner == SHA-256(publicKey)` and the Ed25519 signature, every time.
public struct Ed25519Verifier: RecordVerifier {
    public init() {}

    public func check(_ record: Record) -> RecordRejection? {
        guard record.publicKey.count == 32, NodeID(publicKey: record.publicKey) == record.owner else {
            return .wrongOwner
        }
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: record.publicKey),
            key.isValidSignature(record.signature, for: record.signedBytes)
        else { return .badSignature }
        return nil
    }
}
