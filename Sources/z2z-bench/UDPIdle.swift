import ArgumentParser

struct UDPIdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "udp-idle", abstract: "Real-UDP idle maintenance (placeholder).")
    func run() async throws {}
}
