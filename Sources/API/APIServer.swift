import Config
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Z2ZAPI

/// The local HTTP API as a service-lifecycle `Service`: z2zd adds it to its `ServiceGroup`,
/// and it stops gracefully with the group.
public struct APIServer: Service {
    public let host: String
    public let port: Int
    let handlers: APIHandlers
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    /// - Parameters:
    ///   - listen: where to listen (`api.listen`, loopback by default).
    ///   - onListening: called with the bound port once the server accepts connections
    ///     (useful with port 0 in tests).
    public init(listen: HostPort, source: any GatewayStateSource, configuration: any RunningConfiguration,
                logger: Logger = Logger(label: "z2zd.api"), onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.init(host: listen.hostText, port: Int(listen.port), source: source, configuration: configuration,
                  logger: logger, onListening: onListening)
    }

    public init(host: String, port: Int, source: any GatewayStateSource, configuration: any RunningConfiguration,
                logger: Logger = Logger(label: "z2zd.api"), onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.host = host
        self.port = port
        handlers = APIHandlers(source: source, configuration: configuration)
        self.logger = logger
        self.onListening = onListening
    }

    /// The Hummingbird application serving `APIRoutes`.
    public var application: some ApplicationProtocol {
        let onListening = self.onListening
        return Application(
            router: APIRoutes.router(handlers: handlers),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "z2zd"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    public func run() async throws {
        try await application.run()
    }
}
