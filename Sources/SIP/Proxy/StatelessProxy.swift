/// The stateless proxy role of RFC 3261 §16.11, as pure functions of a request or response.
///
/// Requests: the top Route is removed when it names this node (loose routing, §16.4); the
/// next hop is the next Route, else the Request-URI (§16.6 steps 6–7); Max-Forwards is
/// decremented (`483` at 0, §16.3 step 3); a Via of this node whose loop part equals the
/// request's is a loop (`482`, §16.3 step 4); the own Via goes on top.
/// Responses (§16.7 for the stateless case, §18.2.2): the top Via must be this node's, is
/// removed, and the response goes to the next Via's `received`/`rport`, else its sent-by.
///
/// Branch (§16.11): `z9hG4bKz2z` + a hash of the received top Via's branch when it carries
/// the RFC 3261 cookie (so a CANCEL or a non-2xx ACK gets the INVITE's branch), else of the
/// RFC 2543 transaction fields; then `.` and the loop hash over Request-URI as received, From
/// tag, To tag, Call-ID and CSeq number — the same fields as §16.6 step 8, without Via.
/// Deviations: forwarding is over UDP only (a stateless node cannot carry a response back
/// onto a TCP connection); Record-Route is not added (the gateway need not see in-dialog
/// requests); names in Route or Request-URI are left to the adapter to resolve.
public struct StatelessProxy: Hashable, Sendable {
    /// Every branch this node puts in a Via starts with this.
    public static let branchPrefix = "z9hG4bKz2z"

    public var identity: SIPNodeIdentity
    /// Max-Forwards assumed when the header is missing (§16.6 step 3 adds 70).
    public var defaultMaxForwards: Int

    public init(identity: SIPNodeIdentity, defaultMaxForwards: Int = 70) {
        self.identity = identity
        self.defaultMaxForwards = defaultMaxForwards
    }

    /// Why a request could not be forwarded; each maps to the status the client gets.
    public enum Refusal: Error, Hashable, Sendable {
        case tooManyHops
        case loopDetected
        case routeMalformed
        case noAddressForVia

        public var status: Int {
            switch self {
            case .tooManyHops: SIPStatus.tooManyHops
            case .loopDetected: SIPStatus.loopDetected
            case .routeMalformed: SIPStatus.badRequest
            case .noAddressForVia: SIPStatus.serviceUnavailable
            }
        }
    }

    // MARK: requests

    /// The Route values of a request, in order.
    public static func routes(of request: SIPRequest, limits: SIPLimits = .default) -> [SIPNameAddress]? {
        var routes: [SIPNameAddress] = []
        for field in request.message.fields(.route) {
            guard let values = try? HeaderValueScanner.splitList(field.value, limits: limits) else { return nil }
            for value in values {
                guard let route = try? SIPNameAddress(parsing: value, limits: limits) else { return nil }
                routes.append(route)
            }
        }
        return routes
    }

    /// The top Route names this node (so it was chosen as outbound proxy or next hop).
    public func topRouteNamesUs(_ request: SIPRequest) -> Bool {
        guard let first = Self.routes(of: request)?.first, case .sip(let uri) = first.uri else { return false }
        return identity.isUs(uri)
    }

    /// A copy of `request` for its next hop, with `requestURI` replacing the Request-URI when
    /// given (a proxy's target, §16.6 step 2), or why not.
    public func forward(_ request: SIPRequest, requestURI: SIPURI? = nil) -> Result<SIPOutbound, Refusal> {
        let hops = request.maxForwards ?? defaultMaxForwards
        guard hops > 0 else { return .failure(.tooManyHops) }
        guard var routes = Self.routes(of: request) else { return .failure(.routeMalformed) }
        var removedRoute = false
        if let first = routes.first, case .sip(let uri) = first.uri, identity.isUs(uri) {
            routes.removeFirst()
            removedRoute = true
        }
        let loop = Self.loopHash(request)
        for via in request.via where identity.isUs(via.host, port: via.port) {
            if let branch = via.branch, branch.hasPrefix(Self.branchPrefix), branch.hasSuffix("." + loop) {
                return .failure(.loopDetected)
            }
        }
        let target: SIPURI
        if let route = routes.first {
            guard case .sip(let uri) = route.uri else { return .failure(.routeMalformed) }
            target = uri
        } else if let requestURI {
            target = requestURI
        } else if case .sip(let uri) = request.requestURI {
            target = uri
        } else {
            return .failure(.routeMalformed)
        }
        let hop = SIPHop(target)
        guard let viaHost = identity.viaHost(toward: hop.host) else { return .failure(.noAddressForVia) }
        let branch = Self.branchPrefix + Self.transactionHash(request) + "." + loop

        var headers: [(String, String)] = [("Via", "SIP/2.0/UDP \(viaHost):\(identity.port);branch=\(branch)")]
        var wroteMaxForwards = false
        var routeWritten = false
        for field in request.message.headers {
            switch field.name {
            case .maxForwards:
                headers.append((field.wireName, String(hops - 1)))
                wroteMaxForwards = true
            case .route where removedRoute:
                // The remaining routes replace every Route field, once, where the first stood.
                if !routeWritten, !routes.isEmpty {
                    headers.append(("Route", routes.map(\.description).joined(separator: ", ")))
                }
                routeWritten = true
            case .contentLength:
                continue
            default:
                headers.append((field.wireName, field.value))
            }
        }
        if !wroteMaxForwards { headers.append(("Max-Forwards", String(hops - 1))) }
        let startLine = requestURI.map { "\(request.method.rawValue) \($0) SIP/2.0" }
            ?? String(decoding: request.message.startLine, as: UTF8.self)
        return .success(SIPOutbound(bytes: Self.serialize(startLine: startLine, headers: headers, body: request.message.body), hop: hop))
    }

    // MARK: responses

    /// What to do with a response that reached this node.
    public enum ResponseStep: Hashable, Sendable {
        /// Relay it to the previous hop.
        case relay(SIPOutbound)
        /// A response to a request this node sent itself (a probe); its top Via branch.
        case own(branch: String, statusCode: Int)
        case drop(SIPRejection)
    }

    public func route(response message: SIPMessage, limits: SIPLimits = .default) -> ResponseStep {
        let response: SIPResponse
        let vias: [SIPVia]
        do {
            response = try SIPResponse(parsing: message, limits: limits)
            vias = try SIPRequest.parseVia(message, limits: limits)
        } catch {
            return .drop(error)
        }
        guard let top = vias.first, identity.isUs(top.host, port: top.port), let branch = top.branch,
              branch.hasPrefix(Self.branchPrefix) else { return .drop(.responseNotForUs) }
        guard vias.count >= 2 else { return .own(branch: branch, statusCode: response.statusCode) }
        let next = vias[1]
        var host = next.host
        if case .some(.some(let received)) = next.parameters.value(of: "received") {
            let text = received.contains(":") ? "[\(received)]" : received
            if let parsed = try? SIPHost(parsing: text) { host = parsed }
        }
        var port = next.port ?? 5060
        if case .some(.some(let rport)) = next.parameters.value(of: "rport"), let value = UInt16(rport) { port = value }
        var headers: [(String, String)] = []
        var viasWritten = false
        for field in message.headers {
            switch field.name {
            case .via:
                if !viasWritten { headers += vias.dropFirst().map { ("Via", $0.raw) } }
                viasWritten = true
            case .contentLength:
                continue
            default:
                headers.append((field.wireName, field.value))
            }
        }
        let startLine = String(decoding: message.startLine, as: UTF8.self)
        return .relay(SIPOutbound(bytes: Self.serialize(startLine: startLine, headers: headers, body: message.body),
                                  hop: SIPHop(host: host, port: port)))
    }

    // MARK: branch

    /// §16.11: from the received top branch when it is RFC 3261's, else from the RFC 2543 fields.
    static func transactionHash(_ request: SIPRequest) -> String {
        if let branch = request.via.first?.branch, branch.hasPrefix("z9hG4bK") {
            return RedirectService.hash(branch)
        }
        let top = request.via.first?.raw ?? ""
        return RedirectService.hash([request.requestURI.description, request.from.tag ?? "", request.to.tag ?? "",
                                     request.callID, String(request.cseq.number), top].joined(separator: "\u{1}"))
    }

    /// §16.6 step 8 without Via: equal for a request that came back unchanged (a loop), different
    /// once the Request-URI was retargeted (a spiral).
    static func loopHash(_ request: SIPRequest) -> String {
        RedirectService.hash([request.requestURI.description, request.from.tag ?? "", request.to.tag ?? "",
                              request.callID, String(request.cseq.number)].joined(separator: "\u{1}"))
    }

    static func serialize(startLine: String, headers: [(String, String)], body: [UInt8]) -> [UInt8] {
        var text = startLine + "\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "Content-Length: \(body.count)\r\n\r\n"
        return Array(text.utf8) + body
    }
}
