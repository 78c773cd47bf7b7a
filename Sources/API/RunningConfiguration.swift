import Config

/// The configuration as the API sees it: the one in force (its policy answers `policy
/// test`) and a check that re-reads it as a reload would (`GET /config/check`).
public protocol RunningConfiguration: Sendable {
    var current: GatewayConfiguration { get }
    /// Loads and validates again without applying anything.
    func check() -> Result<GatewayConfiguration, ConfigError>
    /// The file `check()` reads; nil when the daemon runs on defaults and flags alone.
    var file: String? { get }
}

extension ReloadableConfiguration: RunningConfiguration {
    public var file: String? { loader.file?.path }
}

/// A configuration that never changes and has no file: tests, and tools that embed the API.
public struct FixedConfiguration: RunningConfiguration {
    public var current: GatewayConfiguration

    public init(_ configuration: GatewayConfiguration = .defaults) { current = configuration }

    public func check() -> Result<GatewayConfiguration, ConfigError> { .success(current) }
    public var file: String? { nil }
}
