import Config
import Foundation
import Z2ZAPI
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The CLI's side of the local API: one GET or POST, the JSON body decoded, and errors a
/// person can act on (which address was tried, how to start the daemon).
struct APIClient {
    let address: HostPort
    /// Loopback answers at once; a daemon that does not answer within this is stuck.
    var timeout: TimeInterval = 10

    var baseURL: String {
        switch address.host {
        case .address(.v6): "http://[\(address.hostText)]:\(address.port)"
        default: "http://\(address.hostText):\(address.port)"
        }
    }

    /// GET `path`; returns the decoded answer and the body as it came (for `--json`).
    func get<T: Decodable>(_ path: String, query: [URLQueryItem] = [], as type: T.Type) async throws(DaemonError) -> (T, Data) {
        try await send(path, query: query, method: "GET", body: nil, as: type)
    }

    func post<T: Decodable>(_ path: String, body: Data, as type: T.Type) async throws(DaemonError) -> (T, Data) {
        try await send(path, query: [], method: "POST", body: body, as: type)
    }

    private func send<T: Decodable>(_ path: String, query: [URLQueryItem], method: String, body: Data?,
                                    as type: T.Type) async throws(DaemonError) -> (T, Data) {
        var components = URLComponents(string: baseURL + path)
        if !query.isEmpty { components?.queryItems = query }
        guard let url = components?.url else { throw .unreachable(address: baseURL, detail: "not a valid URL") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let configuration = URLSessionConfiguration.ephemeral
        // The API is on this machine: never through a proxy from the environment.
        configuration.connectionProxyDictionary = [:]
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }

        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw .unreachable(address: baseURL, detail: Self.describe(error))
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let message = (try? APIJSON.decoder().decode(APIErrorBody.self, from: data))?.error.message
                ?? String(decoding: data.prefix(200), as: UTF8.self)
            throw .refused(status: status, message: message)
        }
        do {
            return (try APIJSON.decoder().decode(T.self, from: data), data)
        } catch {
            throw .notTheAPI(address: baseURL, detail: "\(error)")
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? URLError else { return "\(error.localizedDescription)" }
        switch error.code {
        case .cannotConnectToHost: return "connection refused"
        case .timedOut: return "no answer"
        case .cannotFindHost: return "unknown host"
        case .networkConnectionLost: return "the connection was closed"
        default: return error.localizedDescription
        }
    }
}

/// Why the daemon could not answer; the CLI prints it and exits 1.
enum DaemonError: Error, CustomStringConvertible {
    case unreachable(address: String, detail: String)
    case refused(status: Int, message: String)
    case notTheAPI(address: String, detail: String)

    var description: String {
        switch self {
        case .unreachable(let address, let detail):
            """
            cannot reach the z2z daemon at \(address) (\(detail)).
            Is z2zd running? Start it with `systemctl start z2zd` (or run `z2zd`),
            or point --api (or $Z2Z_API) at the address it listens on (its api.listen).
            """
        case .refused(let status, let message):
            "the daemon answered HTTP \(status): \(message)"
        case .notTheAPI(let address, let detail):
            "the answer from \(address) is not z2z API v1 JSON (is something else listening there?): \(detail)"
        }
    }
}
