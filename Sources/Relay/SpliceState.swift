/// How one side of a splice ends, as a value. A splice joins two byte streams (a TCP
/// connection and an SSH channel); each side runs one of these, fed what its own channel
/// reports, and answers what to do to itself and to its partner.
///
/// TCP half-closure is carried through (RFC 9293 §3.6): a client that sends a request and
/// shuts its output still gets the whole answer. The rules:
/// - this side read EOF → shut the partner's output once every byte already passed to the
///   partner is written (never drop the tail of a transfer); if this side's own output is
///   already shut, both directions are done: close this side;
/// - the partner shut this side's output → if this side already read EOF, close it;
/// - this side went inactive → close the partner: after its pending writes when this side
///   ended cleanly (EOF first), at once when it was reset or failed.
struct SpliceState: Hashable, Sendable {
    enum Action: Hashable, Sendable {
        case shutPartnerOutputAfterWrites
        case closeSelf
        case closePartnerAfterWrites
        case closePartnerNow
    }

    private(set) var inputEnded = false
    private(set) var outputEnded = false
    private(set) var inactive = false

    /// This side read EOF.
    mutating func readEOF() -> [Action] {
        guard !inputEnded, !inactive else { return [] }
        inputEnded = true
        return outputEnded ? [.shutPartnerOutputAfterWrites, .closeSelf] : [.shutPartnerOutputAfterWrites]
    }

    /// The partner finished: this side's output has been shut.
    mutating func partnerShutOutput() -> [Action] {
        guard !outputEnded, !inactive else { return [] }
        outputEnded = true
        return inputEnded ? [.closeSelf] : []
    }

    /// This side's channel closed.
    mutating func closed() -> [Action] {
        guard !inactive else { return [] }
        inactive = true
        return [inputEnded ? .closePartnerAfterWrites : .closePartnerNow]
    }
}
