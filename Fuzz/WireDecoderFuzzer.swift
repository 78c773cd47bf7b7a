// libFuzzer target for the DHT wire decoder. Built by Fuzz/run with
// `swiftc -sanitize=fuzzer,address` together with the codec's own sources (which import
// nothing), so no package build is needed.
//
// Checks, for every input: decoding never traps, and whatever decodes re-encodes to the
// same bytes (the format is canonical: a strict decoder accepts one encoding per message).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let codec = WireCodec()
    if let message = try? codec.decode(bytes) {
        let again = codec.encode(message)
        precondition(again == bytes, "decode/encode is not canonical")
        precondition(WireCodec.encodedSize(message) == bytes.count, "encodedSize disagrees")
    }
    return 0
}
