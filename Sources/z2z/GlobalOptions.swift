/// Options a person may give before the subcommand, as `systemctl` and `tailscale` take
/// them: `z2z --api 10.0.0.2:7401 status`. ArgumentParser reads options after the command
/// they belong to, so these are moved behind the subcommand path before parsing. Only
/// `--api` is global: every command that talks to the daemon takes it (`z2z local` does
/// not, and says so).
enum GlobalOptions {
    /// `arguments` (without the program name) with a leading `--api VALUE` or `--api=VALUE`
    /// moved to the end; anything else is left as it was, for the parser to judge.
    static func hoisted(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if first == "--api", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--api=") {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        // Nothing after them (`z2z --api X`): leave it for the parser's usage error.
        guard !leading.isEmpty, !rest.isEmpty else { return arguments }
        // Before a `--` terminator, if any: what follows it is not options.
        if let terminator = rest.firstIndex(of: "--") {
            return Array(rest[..<terminator]) + leading + Array(rest[terminator...])
        }
        return Array(rest) + leading
    }
}
