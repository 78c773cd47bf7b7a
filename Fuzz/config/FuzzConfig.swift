// libFuzzer entry for the configuration loader: a TOML text through the same path as a file
// (`ConfigurationLoader.parse`: TOMLKit, then `FileReader`'s typed keys, validators, policy
// rules and conflicts). Built by Deploy/fuzz together with Sources/Config (minus the flags,
// which need swift-argument-parser), Sources/Policy and Sources/DNSSD as one module, linked
// to the package's TOMLKit build.
//
// Besides "never crash": every problem names a line inside the text (or none), and a
// configuration that parses is one z2zd can describe (warnings, changed keys).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    // Lines as the loader and toml++ count them: line feeds, in bytes. (Splitting the String
    // at "\n" would not count the "\r\n" that Swift reads as one character; a run found that.)
    let lineCount = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
    switch ConfigurationLoader.parse(text, path: "fuzz.toml") {
    case .success(let configuration):
        _ = configuration.warnings
        _ = configuration.changedKeys(from: .defaults)
        precondition(configuration.changedKeys(from: configuration).isEmpty, "a configuration differs from itself")
    case .failure(let error):
        for problem in error.problems {
            if let line = problem.line { precondition(line >= 1 && line <= lineCount + 1, "problem line \(line) outside the text") }
            _ = problem.description
        }
    }
    return 0
}
