import API
import Foundation
import Hummingbird
import NIOCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small HTTP client for the API tests against a real server on 127.0.0.1, shaped like
/// HummingbirdTesting's client (which would cost the build async-http-client and BoringSSL).
struct LiveClient: Sendable {
    struct Response: Sendable {
        var status: HTTPResponse.Status
        /// Header fields by lower-cased name.
        var headers: [String: String]
        var body: ByteBuffer
    }

    let port: Int

    func execute(uri: String, method: HTTPRequest.Method, body: ByteBuffer? = nil,
                 _ check: (Response) async throws -> Void) async throws {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(uri)") else { throw URLError(.badURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method.rawValue
        if let body { request.httpBody = Data(body.readableBytesView) }
        let (data, urlResponse) = try await URLSession.shared.data(for: request)
        guard let http = urlResponse as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var headers: [String: String] = [:]
        for case (let name as String, let value as String) in http.allHeaderFields { headers[name.lowercased()] = value }
        try await check(Response(status: HTTPResponse.Status(code: http.statusCode), headers: headers,
                                 body: ByteBuffer(bytes: Array(data))))
    }
}
