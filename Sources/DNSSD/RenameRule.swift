/// How a published name is changed after an mDNS name collision (RFC 6762 §9).
public enum RenameRule: Hashable, Sendable {
    /// Avahi's own rule (`avahi_alternative_service_name`): "Printer", "Printer #2", "Printer #3", ...
    case numbered
    /// First "Printer (suffix)", then "Printer (suffix) #2", ...: the gateway names the island
    /// a service came from, so a name clash on a remote island says where each one lives.
    case suffix(String)

    /// The name to try after `attempt` collisions (attempt 1 is the first rename), always
    /// derived from the `original` name so renames never stack. The original is shortened on
    /// a character boundary so the result stays within 63 bytes.
    ///
    /// The result never equals the original as mDNS compares names (ignoring ASCII case): a
    /// 63-byte original that already ends in the tail ("…A #2") is shortened by one more
    /// character instead of being handed back unchanged.
    public func alternative(to original: InstanceName, attempt: Int) -> InstanceName {
        // UInt so that attempt Int.max still has a successor; every attempt below 1 counts as 1.
        let attempt = UInt(max(attempt, 1))
        let tails: [String]
        switch self {
        case .numbered:
            tails = [" #\(attempt + 1)"]
        case .suffix(let suffix):
            // A suffix too long to leave room for any of the name falls back to the counter.
            tails = [" (\(suffix))" + (attempt > 1 ? " #\(attempt)" : ""), " #\(attempt + 1)"]
        }
        for tail in tails {
            let budget = InstanceName.maximumBytes - tail.utf8.count
            var kept: [Character] = []
            var keptBytes = 0
            for character in original.value {
                guard keptBytes + character.utf8.count <= budget else { break }
                kept.append(character)
                keptBytes += character.utf8.count
            }
            if !kept.isEmpty, asciiLowercased(String(kept) + tail) == original.canonical { kept.removeLast() }
            if !kept.isEmpty, let renamed = try? InstanceName(String(kept) + tail) { return renamed }
        }
        // Reached only when not one character of the original fits beside the tail (a single
        // grapheme cluster of 60-odd bytes); " #N" itself always fits.
        return (try? InstanceName("#\(attempt + 1)")) ?? original
    }
}
