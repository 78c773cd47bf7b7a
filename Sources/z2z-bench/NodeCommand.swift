import ArgumentParser

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "node", abstract: "Run one DHT node over UDP (placeholder).")
    func run() async throws {}
}
