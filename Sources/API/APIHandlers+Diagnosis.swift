import Foundation
import Hummingbird
import Z2ZAPI

/// The diagnosis routes: DHT insides, the event log (polled and streamed), `explain`, and
/// the Prometheus exposition.
extension APIHandlers {
    func dht() async throws -> Response { try Self.json(await source.dht()) }

    func events(_ query: [String: String]) async throws -> Response {
        guard let after = Self.sequence(query["after"]) else {
            return try Self.error(.badRequest, reason: "bad_request", "after must be a sequence number, not \"\(query["after"] ?? "")\"")
        }
        return try Self.json(await source.events(after: after))
    }

    func explain(_ query: [String: String]) async throws -> Response {
        guard let service = query["service"]?.trimmingCharacters(in: .whitespaces), !service.isEmpty else {
            return try Self.error(.badRequest, reason: "bad_request", "give service=INSTANCE-OR-TYPE (e.g. _ipp._tcp or \"Printer._ipp._tcp\")")
        }
        return try Self.json(await source.explain(service))
    }

    func metrics() async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: await source.metrics())))
    }

    /// Server-sent events: each new `GatewayEvent` as `id: N` and one `data:` line of JSON.
    /// A stream lasts at most `streamLifetime` and then ends; EventSource reconnects by
    /// itself with `Last-Event-ID`, so no event is lost. The bound keeps an open dashboard
    /// from holding up the daemon's graceful shutdown (the server waits for its responses).
    func eventStream(_ request: Request) throws -> Response {
        let query = APIRoutes.query(request)
        let resume = request.headers.first { $0.name.canonicalName == "last-event-id" }.flatMap { UInt64($0.value) }
        guard let after = resume ?? Self.sequence(query["after"]) else {
            return try Self.error(.badRequest, reason: "bad_request", "after must be a sequence number")
        }
        var seconds: Int?
        if let text = query["seconds"] {
            guard let value = Int(text), (1...30).contains(value) else {
                return try Self.error(.badRequest, reason: "bad_request", "seconds must be 1 to 30, not \"\(text)\"")
            }
            seconds = value
        }
        let lifetime = seconds.map { Duration.seconds($0) } ?? Self.streamLifetime
        let source = self.source
        let poll = Self.streamPoll
        let body = ResponseBody { writer in
            var last = after
            let end = ContinuousClock.now + lifetime
            try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
            while ContinuousClock.now < end, !Task.isCancelled {
                let answer = await source.events(after: last)
                var text = ""
                for event in answer.events {
                    let json = String(decoding: try APIJSON.encoder().encode(event), as: UTF8.self)
                    text += "id: \(event.sequence)\ndata: \(json)\n\n"
                    last = event.sequence
                }
                try await writer.write(ByteBuffer(string: text.isEmpty ? ": idle\n\n" : text))
                try? await Task.sleep(for: poll)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    func dashboard() -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: Dashboard.html)))
    }

    static let streamLifetime: Duration = .seconds(30)
    static let streamPoll: Duration = .milliseconds(500)

    /// `after`: absent means 0.
    static func sequence(_ text: String?) -> UInt64? {
        guard let text else { return 0 }
        return UInt64(text)
    }
}
