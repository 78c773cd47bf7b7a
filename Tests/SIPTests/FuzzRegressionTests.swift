import Foundation
import SIP
import Testing

/// Inputs from fuzzing. `Deploy/fuzz-sip` found no crash so far (see BENCHMARKS.md / the commit
/// log for hours run); a crash it finds is added here as a named test, with its bytes inline,
/// before it is fixed. Meanwhile every committed seed runs through every entry point.
@Suite struct FuzzRegressionTests {
    static let seeds: [String] = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/sip/corpus")
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .sorted().map { directory.appendingPathComponent($0).path }
    }()

    @Test func everySeedRunsThroughEveryEntryPointWithATypedOutcome() {
        #expect(Self.seeds.count >= 49)
        for path in Self.seeds {
            let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
            for transport in [SIPSource.Transport.udp, .tcp] {
                var service = RedirectService()
                _ = service.receive(bytes, from: SIPSource(host: .ipv4(0x7f00_0001), port: 5060, transport: transport), now: .now)
            }
            var framer = SIPStreamFramer()
            framer.append(bytes)
            while let message = try? framer.next() { #expect(message.count <= SIPLimits.default.maximumMessageBytes) }
        }
    }
}
