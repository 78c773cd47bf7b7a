import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Holds a running API server to `Deploy/openapi.json`: every documented operation is
/// called (required query parameters from their `example`, a POST body from the request
/// body's `example`) and must answer 200 with the documented media type; JSON answers must
/// carry every required field of the documented schema, with the documented JSON types,
/// recursively. A small checker for the subset of JSON Schema the file uses (`$ref`,
/// `type`, `required`, `properties`, `items`), so a mismatch names the field.
/// Immutable after `init` (the parsed file is only read), hence `@unchecked Sendable`.
public struct OpenAPIContract: @unchecked Sendable {
    public struct Operation: Hashable, Sendable, CustomStringConvertible {
        public var method: String
        public var path: String
        public var description: String { "\(method) \(path)" }
    }

    public struct Violation: Error, CustomStringConvertible, Sendable {
        public var operation: String
        public var problem: String
        public var description: String { "\(operation): \(problem)" }
    }

    let spec: [String: Any]

    /// An HTTP exchange: what the server answered.
    public struct Answer: Sendable {
        public var status: Int
        public var contentType: String
        public var body: Data
        public init(status: Int, contentType: String, body: Data) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// Sends one request (method, URL, body, its content type); the default is URLSession.
    /// Integration tests pass one that runs curl inside the daemon's network namespace.
    public typealias Fetch = @Sendable (String, URL, Data?, String?) async throws -> Answer

    public static let urlSession: Fetch = { method, url, body, contentType in
        var request = URLRequest(url: url, timeoutInterval: 20)
        request.httpMethod = method
        request.httpBody = body
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return Answer(status: http?.statusCode ?? 0, contentType: http?.value(forHTTPHeaderField: "Content-Type") ?? "", body: data)
    }

    public static var file: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Deploy/openapi.json")
    }

    public init(file: URL = OpenAPIContract.file) throws {
        let data = try Data(contentsOf: file)
        guard let spec = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Violation(operation: file.path, problem: "not a JSON object")
        }
        self.spec = spec
    }

    /// Every documented operation.
    public var operations: [Operation] {
        let paths = spec["paths"] as? [String: Any] ?? [:]
        return paths.flatMap { path, item in
            ((item as? [String: Any]) ?? [:]).keys.map { Operation(method: $0.uppercased(), path: path) }
        }.sorted { ($0.path, $0.method) < ($1.path, $1.method) }
    }

    /// Calls every operation on the server at `base` (`http://127.0.0.1:PORT`); returns the violations.
    public func check(base: String, fetch: Fetch = OpenAPIContract.urlSession) async -> [Violation] {
        var violations: [Violation] = []
        for operation in operations {
            do { try await check(operation, base: base, fetch: fetch) } catch let violation as Violation {
                violations.append(violation)
            } catch {
                violations.append(Violation(operation: "\(operation)", problem: "\(error)"))
            }
        }
        return violations
    }

    func check(_ operation: Operation, base: String, fetch: Fetch) async throws {
        let name = "\(operation)"
        let paths = spec["paths"] as? [String: Any]
        guard let item = (paths?[operation.path] as? [String: Any])?[operation.method.lowercased()] as? [String: Any] else {
            throw Violation(operation: name, problem: "not documented")
        }
        var components = URLComponents(string: base + operation.path)
        // Required parameters from their examples; `seconds` bounds the event stream.
        let parameters = (item["parameters"] as? [[String: Any]] ?? []).filter {
            ($0["required"] as? Bool) == true || $0["name"] as? String == "seconds"
        }
        if !parameters.isEmpty {
            components?.queryItems = parameters.compactMap { parameter in
                guard let key = parameter["name"] as? String else { return nil }
                return URLQueryItem(name: key, value: parameter["example"].map { "\($0)" } ?? "")
            }
        }
        guard let url = components?.url else { throw Violation(operation: name, problem: "bad URL") }
        var body: Data?
        var bodyType: String?
        if let requestBody = item["requestBody"] as? [String: Any], let content = requestBody["content"] as? [String: Any],
           let first = content.first, let example = (first.value as? [String: Any])?["example"] as? String {
            body = Data(example.utf8)
            bodyType = first.key
        }
        let answer = try await fetch(operation.method, url, body, bodyType)
        let data = answer.body
        guard answer.status == 200 else {
            throw Violation(operation: name, problem: "HTTP \(answer.status): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        let documented = ((item["responses"] as? [String: Any])?["200"] as? [String: Any])?["content"] as? [String: Any] ?? [:]
        let contentType = answer.contentType.lowercased()
        guard let match = documented.first(where: { contentType.hasPrefix($0.key) }) else {
            throw Violation(operation: name, problem: "content type \(contentType) is not documented (\(documented.keys.sorted()))")
        }
        let (mediaType, media) = (match.key, match.value)
        guard mediaType == "application/json" else { return }
        guard let schema = (media as? [String: Any])?["schema"] as? [String: Any] else {
            throw Violation(operation: name, problem: "no schema documented")
        }
        let json = try JSONDecoder().decode(JSONValue.self, from: data)
        try validate(json, against: schema, at: "$", operation: name)
    }

    /// A schema of `#/components/schemas` by name, if documented.
    public func schema(_ name: String) -> [String: Any]? {
        ((spec["components"] as? [String: Any])?["schemas"] as? [String: Any])?[name] as? [String: Any]
    }

    func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let reference = schema["$ref"] as? String, reference.hasPrefix("#/components/schemas/") else { return schema }
        let name = String(reference.dropFirst("#/components/schemas/".count))
        let schemas = (spec["components"] as? [String: Any])?["schemas"] as? [String: Any]
        return schemas?[name] as? [String: Any] ?? [:]
    }

    /// Checks `value` against `schema`; throws the first mismatch with its JSON path.
    public func validate(_ value: JSONValue, against schema: [String: Any], at path: String, operation: String) throws {
        let schema = resolve(schema)
        func fail(_ problem: String) -> Violation { Violation(operation: operation, problem: "\(path): \(problem)") }
        switch (schema["type"] as? String, value) {
        case ("object", .object(let object)):
            for field in schema["required"] as? [String] ?? [] where object[field] == nil {
                throw fail("required field \"\(field)\" is missing")
            }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (key, field) in object {
                guard let property = properties[key] as? [String: Any] else { continue }
                try validate(field, against: property, at: "\(path).\(key)", operation: operation)
            }
        case ("array", .array(let array)):
            let items = schema["items"] as? [String: Any] ?? [:]
            for (index, element) in array.enumerated() {
                try validate(element, against: items, at: "\(path)[\(index)]", operation: operation)
            }
        case ("string", .string), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .number), (nil, _):
            break
        case (let type?, _):
            throw fail("expected \(type), found \(value.kind)")
        }
    }
}

/// A JSON document as decoded by `JSONDecoder`, which tells booleans from numbers and
/// integers from fractions (JSONSerialization's NSNumbers do not, on Linux).
public enum JSONValue: Decodable, Sendable {
    case null, bool(Bool), integer(Int64), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
