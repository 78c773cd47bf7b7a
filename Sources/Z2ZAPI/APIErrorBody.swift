/// The body of every API answer that is not 2xx: `{"error": {"reason": ..., "message": ...}}`.
public struct APIErrorBody: Codable, Hashable, Sendable {
    public struct Detail: Codable, Hashable, Sendable {
        /// Stable code: `bad_request`, `not_found`, `unavailable`, `internal`.
        public var reason: String
        public var message: String

        public init(reason: String, message: String) {
            self.reason = reason
            self.message = message
        }

        enum CodingKeys: String, CodingKey {
            case reason
            case message
        }
    }

    public var error: Detail

    public init(reason: String, message: String) { error = Detail(reason: reason, message: message) }

    enum CodingKeys: String, CodingKey {
        case error
    }
}
