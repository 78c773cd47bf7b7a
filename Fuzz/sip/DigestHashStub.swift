// Stands in for Sources/SIP/Registrar/DigestHash.swift in the fuzz build, which has no
// swift-crypto: any stable 32-hex-digit hash will do, the fuzzer never checks a digest.
enum DigestHash {
    static func md5Hex(_ bytes: [UInt8]) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let hex = String(value, radix: 16)
        let half = String(repeating: "0", count: 16 - hex.count) + hex
        return half + half
    }
}
