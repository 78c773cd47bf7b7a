import Crypto

/// MD5 for Digest authentication, from swift-crypto. Its own file so that Deploy/fuzz-sip,
/// which compiles Sources/SIP without dependencies, can put Fuzz/sip/DigestHashStub.swift
/// in its place.
enum DigestHash {
    static func md5Hex(_ bytes: [UInt8]) -> String {
        Insecure.MD5.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
