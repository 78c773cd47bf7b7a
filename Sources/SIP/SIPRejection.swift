/// Why the parser or the redirect service refused a message.
///
/// Every rejection in the `SIP` module is one of these cases. `reason` is a short, stable,
/// snake_case code: the metric label (`z2z_sip_rejections_total{reason=...}`), the log key and,
/// for requests answered with `400 Bad Request`, part of the reason phrase. Associated values
/// carry detail for the human `description` only; they never enter a label.
public enum SIPRejection: Error, Hashable, Sendable, CustomStringConvertible {
    // Limits (SIPLimits)
    case messageEmpty
    case messageTooLarge(bytes: Int)
    case tooManyHeaderFields(count: Int)
    case headerFieldTooLong(bytes: Int)
    case tooManyListValues(count: Int)
    case tooManyParameters(count: Int)
    case uriTooLong(bytes: Int)

    // Framing (RFC 3261 §7, §18.3)
    case headerSectionUnterminated
    case headerLineMalformed
    case headerNameInvalid
    case headerValueInvalidByte(UInt8)
    case headerValueInvalidUTF8
    case continuationWithoutHeader
    case contentLengthMalformed
    case contentLengthConflict
    case contentLengthMissing
    case bodyTruncated(declared: Int, available: Int)

    // Start line (RFC 3261 §7.1, §7.2, §25.1)
    case requestLineMalformed
    case statusLineMalformed
    case methodInvalid
    case versionUnsupported(String)
    case statusCodeInvalid
    case reasonPhraseInvalid

    // URIs (RFC 3261 §19.1, §25.1; RFC 3966)
    case uriSchemeMissing
    case uriSchemeUnsupported(String)
    case uriUserInvalid
    case uriPasswordInvalid
    case uriHostInvalid
    case uriPortInvalid
    case uriParameterInvalid
    case uriHeaderInvalid
    case uriEscapeInvalid
    case telNumberInvalid

    // Header fields a redirect server reads (RFC 3261 §8.1.1, §20)
    case headerMissing(String)
    case headerRepeated(String)
    case viaMalformed
    case fromMalformed
    case toMalformed
    case contactMalformed
    case callIDMalformed
    case cseqMalformed
    case cseqMethodMismatch
    case maxForwardsMalformed
    case scalarOutOfRange(String)
    case quotedStringUnterminated
    case displayNameInvalid
    case parameterMalformed

    // Service
    case responseIgnored
    case responseNotForUs
    case overloaded

    /// A short, stable code naming the rule that was broken; used as metric label and log key.
    public var reason: String {
        switch self {
        case .messageEmpty: "message_empty"
        case .messageTooLarge: "message_too_large"
        case .tooManyHeaderFields: "too_many_header_fields"
        case .headerFieldTooLong: "header_field_too_long"
        case .tooManyListValues: "too_many_list_values"
        case .tooManyParameters: "too_many_parameters"
        case .uriTooLong: "uri_too_long"
        case .headerSectionUnterminated: "header_section_unterminated"
        case .headerLineMalformed: "header_line_malformed"
        case .headerNameInvalid: "header_name_invalid"
        case .headerValueInvalidByte: "header_value_invalid_byte"
        case .headerValueInvalidUTF8: "header_value_invalid_utf8"
        case .continuationWithoutHeader: "continuation_without_header"
        case .contentLengthMalformed: "content_length_malformed"
        case .contentLengthConflict: "content_length_conflict"
        case .contentLengthMissing: "content_length_missing"
        case .bodyTruncated: "body_truncated"
        case .requestLineMalformed: "request_line_malformed"
        case .statusLineMalformed: "status_line_malformed"
        case .methodInvalid: "method_invalid"
        case .versionUnsupported: "version_unsupported"
        case .statusCodeInvalid: "status_code_invalid"
        case .reasonPhraseInvalid: "reason_phrase_invalid"
        case .uriSchemeMissing: "uri_scheme_missing"
        case .uriSchemeUnsupported: "uri_scheme_unsupported"
        case .uriUserInvalid: "uri_user_invalid"
        case .uriPasswordInvalid: "uri_password_invalid"
        case .uriHostInvalid: "uri_host_invalid"
        case .uriPortInvalid: "uri_port_invalid"
        case .uriParameterInvalid: "uri_parameter_invalid"
        case .uriHeaderInvalid: "uri_header_invalid"
        case .uriEscapeInvalid: "uri_escape_invalid"
        case .telNumberInvalid: "tel_number_invalid"
        case .headerMissing: "header_missing"
        case .headerRepeated: "header_repeated"
        case .viaMalformed: "via_malformed"
        case .fromMalformed: "from_malformed"
        case .toMalformed: "to_malformed"
        case .contactMalformed: "contact_malformed"
        case .callIDMalformed: "call_id_malformed"
        case .cseqMalformed: "cseq_malformed"
        case .cseqMethodMismatch: "cseq_method_mismatch"
        case .maxForwardsMalformed: "max_forwards_malformed"
        case .scalarOutOfRange: "scalar_out_of_range"
        case .quotedStringUnterminated: "quoted_string_unterminated"
        case .displayNameInvalid: "display_name_invalid"
        case .parameterMalformed: "parameter_malformed"
        case .responseIgnored: "response_ignored"
        case .responseNotForUs: "response_not_for_us"
        case .overloaded: "overloaded"
        }
    }

    public var description: String {
        switch self {
        case .messageEmpty: "message is empty"
        case .messageTooLarge(let bytes): "message is \(bytes) bytes, more than the limit"
        case .tooManyHeaderFields(let count): "message has \(count) header fields, more than the limit"
        case .headerFieldTooLong(let bytes): "a header field is \(bytes) bytes, more than the limit"
        case .tooManyListValues(let count): "a header lists \(count) values, more than the limit"
        case .tooManyParameters(let count): "\(count) parameters, more than the limit"
        case .uriTooLong(let bytes): "a URI is \(bytes) bytes, more than the limit"
        case .headerSectionUnterminated: "no empty line ends the header section (RFC 3261 §7)"
        case .headerLineMalformed: "a header line has no colon (RFC 3261 §7.3)"
        case .headerNameInvalid: "a header name is not a token (RFC 3261 §25.1)"
        case .headerValueInvalidByte(let byte): "a header value holds control byte \(byte)"
        case .headerValueInvalidUTF8: "a header value is not UTF-8 (RFC 3261 §25.1 TEXT-UTF8)"
        case .continuationWithoutHeader: "a folded line comes before any header field (RFC 3261 §7.3.1)"
        case .contentLengthMalformed: "Content-Length is not a non-negative integer (RFC 3261 §20.14)"
        case .contentLengthConflict: "Content-Length appears more than once (RFC 3261 §20.14)"
        case .contentLengthMissing: "Content-Length is required on a stream transport (RFC 3261 §18.3)"
        case .bodyTruncated(let declared, let available):
            "Content-Length says \(declared) bytes but \(available) follow (RFC 3261 §18.3)"
        case .requestLineMalformed: "request line is not Method SP Request-URI SP SIP-Version (RFC 3261 §7.1)"
        case .statusLineMalformed: "status line is not SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2)"
        case .methodInvalid: "method is not a token (RFC 3261 §25.1)"
        case .versionUnsupported(let version): "SIP version '\(version)' is not SIP/2.0 (RFC 3261 §8.2.2)"
        case .statusCodeInvalid: "status code is not three digits (RFC 3261 §7.2)"
        case .reasonPhraseInvalid: "reason phrase holds a control character (RFC 3261 §25.1)"
        case .uriSchemeMissing: "URI has no scheme (RFC 3261 §19.1)"
        case .uriSchemeUnsupported(let scheme): "URI scheme '\(scheme)' is not sip, sips or tel (RFC 3261 §8.2.2.1)"
        case .uriUserInvalid: "URI user part holds a character outside RFC 3261 §25.1 'user'"
        case .uriPasswordInvalid: "URI password holds a character outside RFC 3261 §25.1 'password'"
        case .uriHostInvalid: "URI host is not a hostname, IPv4 address or IPv6 reference (RFC 3261 §25.1)"
        case .uriPortInvalid: "URI port is not a number from 0 to 65535"
        case .uriParameterInvalid: "URI parameter is malformed (RFC 3261 §19.1.1)"
        case .uriHeaderInvalid: "URI header is malformed (RFC 3261 §19.1.1)"
        case .uriEscapeInvalid: "a percent escape is not two hex digits (RFC 3261 §25.1)"
        case .telNumberInvalid: "tel URI number is malformed (RFC 3966 §3)"
        case .headerMissing(let name): "required header field \(name) is missing (RFC 3261 §8.1.1)"
        case .headerRepeated(let name): "single-valued header field \(name) appears more than once (RFC 3261 §7.3)"
        case .viaMalformed: "Via is malformed (RFC 3261 §20.42)"
        case .fromMalformed: "From is malformed (RFC 3261 §20.20)"
        case .toMalformed: "To is malformed (RFC 3261 §20.39)"
        case .contactMalformed: "Contact is malformed (RFC 3261 §20.10)"
        case .callIDMalformed: "Call-ID is malformed (RFC 3261 §20.8)"
        case .cseqMalformed: "CSeq is malformed or out of range (RFC 3261 §8.1.1.5, §20.16)"
        case .cseqMethodMismatch: "CSeq method differs from the request method (RFC 3261 §8.1.1.5)"
        case .maxForwardsMalformed: "Max-Forwards is not an integer from 0 to 255 (RFC 3261 §20.22)"
        case .scalarOutOfRange(let name): "\(name) is outside its range (RFC 3261 §20)"
        case .quotedStringUnterminated: "a quoted string has no closing quote (RFC 3261 §25.1)"
        case .displayNameInvalid: "display name is neither tokens nor a quoted string (RFC 3261 §25.1)"
        case .parameterMalformed: "a header parameter is empty or malformed (RFC 3261 §25.1)"
        case .responseIgnored: "a response arrived; a redirect server sends no requests and ignores responses"
        case .responseNotForUs: "a response whose top Via is not this gateway's (RFC 3261 §18.1.2)"
        case .overloaded: "too many lookups are in flight"
        }
    }
}
