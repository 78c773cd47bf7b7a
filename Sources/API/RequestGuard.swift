import Config
import DNSSD
import Hummingbird

/// Which requests the local API answers: the defence against a web page in the user's
/// browser reaching it (issue 18).
///
/// - **DNS rebinding**: a page on `evil.example` makes its name resolve to 127.0.0.1 and
///   reads the API as its own origin; the request then carries `Host: evil.example`. So the
///   Host must be an IP literal (a rebinding needs a name), `localhost`, or the name the
///   API was told to listen on.
/// - **Cross-site requests**: a page elsewhere posts to the API (a `text/plain` POST needs
///   no preflight); browsers name that page in `Origin`. So an `Origin`, when present, must
///   be the API's own: an allowed host on the API's port, over http. Clients that are not
///   browsers (`z2z`, curl, Prometheus) send no Origin and pass.
///
/// Pure: the middleware asks `refusal(host:origin:)` for each request.
public struct RequestGuard: Sendable {
    /// Where the API listens.
    public let listen: HostPort

    public init(listen: HostPort) {
        self.listen = listen
    }

    /// Why a request is refused, for the 403's body.
    public enum Refusal: Hashable, Sendable, CustomStringConvertible {
        case host(String)
        case origin(String)

        public var reason: String {
            switch self {
            case .host: "forbidden_host"
            case .origin: "forbidden_origin"
            }
        }

        public var description: String {
            switch self {
            case .host(let host):
                "Host \"\(host)\" is not this API's address (an IP address, localhost or the configured name): "
                    + "a page that renamed itself to reach a local port is refused"
            case .origin(let origin):
                "requests from web pages of origin \"\(origin)\" are refused: only the API's own pages may call it"
            }
        }
    }

    /// Nil when the request may be answered. `host` is the Host header (`:authority`), nil
    /// when absent (HTTP/1.0 clients); `origin` the Origin header, nil when absent.
    public func refusal(host: String?, origin: String?) -> Refusal? {
        if let host, !allowedHost(host) { return .host(host) }
        if let origin, !ownOrigin(origin) { return .origin(origin) }
        return nil
    }

    /// An IP literal, `localhost`, or the configured listening name; any port.
    func allowedHost(_ text: String) -> Bool {
        guard let parsed = try? HostPort(parsing: text, defaultPort: 80) else { return false }
        return allowed(parsed.host)
    }

    /// `http://HOST[:PORT]` with an allowed host on the API's port. A wildcard listener
    /// serves the dashboard on any of the machine's addresses, so any IP literal is the
    /// API's own there; otherwise loopback or the listening address itself.
    func ownOrigin(_ text: String) -> Bool {
        let prefix = "http://"
        guard text.lowercased().hasPrefix(prefix) else { return false }
        let authority = String(text.dropFirst(prefix.count))
        guard !authority.contains("/"), let parsed = try? HostPort(parsing: authority, defaultPort: 80),
              parsed.port == listen.port, allowed(parsed.host) else { return false }
        switch (listen.host, parsed.host) {
        case (.address(let listening), .address(let address)):
            return listening.isUnspecified || address.isLoopback || address == listening
        default:
            return true
        }
    }

    private func allowed(_ host: HostPort.Host) -> Bool {
        switch host {
        case .address:
            return true
        case .name(let name):
            let name = name.lowercased()
            if name == "localhost" { return true }
            if case .name(let listening) = listen.host { return name == listening.lowercased() }
            return false
        }
    }
}

/// Applies a `RequestGuard` to every request: a refused one gets 403 with the reason.
struct RequestGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let requestGuard: RequestGuard

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = requestGuard.refusal(host: request.head.authority, origin: request.headers[.origin]) {
            context.logger.info("request refused", metadata: ["reason": "\(refusal.reason)", "path": "\(request.uri.path)"])
            return try APIHandlers.error(.forbidden, reason: refusal.reason, refusal.description)
        }
        return try await next(request, context)
    }
}
