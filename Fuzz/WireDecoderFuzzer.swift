// libFuzzer target for the DHT wire decoder. Built by Fuzz/run (and Deploy/fuzz wire) with
// `swiftc -sanitize=fuzzer,address` together with the codec's own sources and the shared
// types they use (copies without their `import Primitives`), so no package build is needed.
//
// Checks, for every input: decoding never traps, and whatever decodes re-encodes to the
// same bytes (the format is canonical: a strict decoder accepts one encoding per message);
// both for an open codec and for a keyed one (admission: the tag is checked before the
// rest is read). The keyed codec uses a toy authenticator (FNV-1a, 4 bytes) instead of
// HMAC so that the fuzzer can forge tags and reach the decoder behind them; the real tag
// is `NetworkKey`'s, which this build does not link (it needs swift-crypto).

struct ToyAuthenticator: DatagramAuthenticator {
    var tagBytes: Int { 4 }

    func tag(_ bytes: ArraySlice<UInt8>, for purpose: DatagramPurpose) -> [UInt8] {
        var hash: UInt32 = purpose == .frame ? 0x811C_9DC5 : 0x0100_0193
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return [UInt8(hash >> 24), UInt8(truncatingIfNeeded: hash >> 16), UInt8(truncatingIfNeeded: hash >> 8), UInt8(truncatingIfNeeded: hash)]
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let codec = WireCodec()
    if let message = try? codec.decode(bytes) {
        let again = codec.encode(message)
        precondition(again == bytes, "decode/encode is not canonical")
        precondition(WireCodec.encodedSize(message) == bytes.count, "encodedSize disagrees")
    }
    let keyed = WireCodec(key: ToyAuthenticator())
    if let message = try? keyed.decode(bytes) {
        precondition(keyed.encode(message) == bytes, "keyed decode/encode is not canonical")
        precondition(keyed.encodedSize(message) == bytes.count, "keyed encodedSize disagrees")
        precondition((try? codec.decode(bytes)) == nil, "an open codec accepted a tagged frame")
    }
    // The same frame with a valid tag appended always decodes to what the open codec read.
    if let message = try? codec.decode(bytes), bytes.count >= 3 {
        var tagged = bytes
        tagged[2] |= 0x08
        tagged += ToyAuthenticator().tag(tagged, for: .frame)
        precondition((try? keyed.decode(tagged)) == message, "a tagged frame did not decode to its untagged message")
    }
    return 0
}
