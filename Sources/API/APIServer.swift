import Config
import DNSSD
import Foundation
import Hummingbird
import HummingbirdCore
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
    let requestGuard: RequestGuard
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    /// - Parameters:
    ///   - listen: where to listen (`api.listen`, loopback by default).
    ///   - onListening: called with the bound port once the server accepts connections
    ///     (useful with port 0 in tests).
    ///   - checker: checks posted configurations (`ConfigCheckerProcess` in the daemon).
    public init(listen: HostPort, source: any GatewayStateSource, configuration: any RunningConfiguration,
                checker: any ConfigTextChecker = InProcessConfigChecker(),
                logger: Logger = Logger(label: "z2zd.api"), onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.init(host: listen.hostText, port: Int(listen.port), source: source, configuration: configuration,
                  checker: checker, logger: logger, onListening: onListening)
    }

    public init(host: String, port: Int, source: any GatewayStateSource, configuration: any RunningConfiguration,
                checker: any ConfigTextChecker = InProcessConfigChecker(),
                logger: Logger = Logger(label: "z2zd.api"), onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.host = host
        self.port = port
        let address = (try? IPAddress(host)).map(HostPort.Host.address) ?? .name(host)
        requestGuard = RequestGuard(listen: HostPort(host: address, port: UInt16(clamping: port)))
        handlers = APIHandlers(source: source, configuration: configuration, checker: checker)
        self.logger = logger
        self.onListening = onListening
    }

    /// A connection that sends nothing for this long is closed, a half-sent request
    /// included: idle connections cannot pile up (issue 18).
    public static let idleTimeout: TimeAmount = .seconds(10)

    /// The Hummingbird application serving `APIRoutes`, behind the `RequestGuard`. It stops
    /// accepting connections before the process runs out of descriptors (at that point
    /// NIO's accept loop would spin and nothing else could open a file or socket).
    public var application: some ApplicationProtocol {
        let onListening = self.onListening
        return Application(
            router: APIRoutes.router(handlers: handlers, requestGuard: requestGuard),
            server: .http1(configuration: .init(idleTimeout: Self.idleTimeout)),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "z2zd", backlog: 1024,
                availableConnectionsDelegate: MaximumAvailableConnections(Self.connectionLimit())),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Connections the API holds at most: three quarters of the descriptors left after a
    /// reserve of 256 for everything else z2zd opens (sockets, D-Bus, its database).
    public static func connectionLimit(descriptors: Int = DescriptorLimit.current) -> Int {
        max(16, (descriptors - 256) * 3 / 4)
    }

    public func run() async throws {
        try await application.run()
    }
}
