import Foundation
import Testbed

/// linphonec (liblinphone 5.1, Debian's `linphone-cli`) driven headless: its configuration
/// file names the gateway as registrar and outbound proxy (`reg_route`), its commands come
/// through a FIFO it reads as stdin (held open for writing by itself, so it never reads
/// EOF), audio goes to and from WAV files (`soundcard use files`: no sound card in a
/// namespace), and liblinphone's log, SIP trace included, goes to `log`.
struct Linphonec {
    let process: BackgroundProcess
    let bed: Testbed
    let host: HostRef
    let fifo: String
    let log: String
    /// Ten seconds of a 440 Hz sine, 8 kHz mono, that `play` sends into the call.
    let tone: String

    /// Starts linphonec on `host` with the identity `sip:USER@GATEWAY`, registering with the
    /// gateway and routing every request through it.
    static func start(_ bed: Testbed, _ host: HostRef, user: String, gateway: String) throws -> Linphonec {
        let directory = "\(bed.directory)/linphonec-\(user)"
        // liblinphone keeps its database under $HOME and gives up on it when the directory is missing.
        try FileManager.default.createDirectory(atPath: "\(directory)/home/.local/share/linphone", withIntermediateDirectories: true)
        let config = """
            [sip]
            sip_port=5060
            sip_tcp_port=-1
            sip_tls_port=-1
            default_proxy=0
            ipv6=0
            [net]
            # Without this liblinphone waits for its network monitor, which never reports a
            # namespace's link up, and opens no SIP socket.
            auto_net_state_mon=0
            [rtp]
            audio_rtp_port=7078
            [sound]
            echocancellation=0
            [proxy_0]
            reg_proxy=<sip:\(gateway);transport=udp>
            reg_route=<sip:\(gateway);lr>
            reg_identity=sip:\(user)@\(gateway)
            reg_expires=60
            reg_sendregister=1
            publish=0

            """
        try config.write(toFile: "\(directory)/linphonerc", atomically: true, encoding: .utf8)
        let tone = "\(directory)/tone.wav"
        try Self.sine(seconds: 10).write(to: URL(fileURLWithPath: tone))
        let fifo = "\(directory)/commands"
        let log = "\(directory)/linphone.log"
        let process = try bed.spawn(host, ["bash", "-c", """
            cd \(directory) && rm -f commands && mkfifo commands && exec 3<>commands && \
            HOME=\(directory)/home exec stdbuf -oL linphonec -c \(directory)/linphonerc -S -d 6 -l \(log) < commands
            """])
        return Linphonec(process: process, bed: bed, host: host, fifo: fifo, log: log, tone: tone)
    }

    /// Gives linphonec these command lines.
    func send(_ commands: String...) async throws {
        _ = try await bed.runChecked(host, ["bash", "-c", "printf '%s\\n' \"$@\" > \(fifo)", "-"] + commands, timeout: .seconds(10))
    }

    /// liblinphone's log so far (the SIP messages it sent and received are in it).
    var trace: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Asks linphonec to quit (it unregisters first), and makes sure it ends.
    func quit() async {
        try? await send("quit")
        if (try? await process.wait(timeout: .seconds(10))) == nil { await process.stop() }
    }

    /// A WAV file: 16-bit PCM, 8 kHz mono, a 440 Hz sine at a quarter of full scale.
    static func sine(seconds: Int) -> Data {
        let rate = 8_000
        let samples = (0..<(rate * seconds)).map { Int16(8_000 * sin(2 * Double.pi * 440 * Double($0) / Double(rate))) }
        var data = Data()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8)); append(UInt32(36 + samples.count * 2)); data.append(contentsOf: Array("WAVE".utf8))
        data.append(contentsOf: Array("fmt ".utf8)); append(UInt32(16)); append(UInt16(1)); append(UInt16(1))
        append(UInt32(rate)); append(UInt32(rate * 2)); append(UInt16(2)); append(UInt16(16))
        data.append(contentsOf: Array("data".utf8)); append(UInt32(samples.count * 2))
        for sample in samples { append(sample) }
        return data
    }
}
