import DNSSD
import Policy
import TOMLKit

/// Reads a TOML text onto the defaults, collecting every problem with its key and line.
///
/// Unknown keys are refused (a typo would otherwise silently leave a default in place),
/// with the nearest known key suggested.
struct FileReader {
    let path: String?
    private let lines: KeyLines
    private(set) var problems: [ConfigProblem] = []

    /// The configuration the text describes (defaults where it is silent), and what is wrong with it.
    static func read(_ text: String, path: String?) -> (GatewayConfiguration, [ConfigProblem]) {
        if let (fault, line, column) = TOMLPreflight.fault(in: text) {
            let problem = ConfigProblem(source: .file(path: path, line: line, column: column), key: nil, reason: .syntax,
                                        message: fault.message)
            return (.defaults, [problem])
        }
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let problem = ConfigProblem(
                source: .file(path: path, line: error.source.begin.line, column: error.source.begin.column),
                key: nil, reason: .syntax, message: "TOML syntax: \(error.description)")
            return (.defaults, [problem])
        } catch {
            return (.defaults, [ConfigProblem(source: .file(path: path, line: nil, column: nil), key: nil,
                                              reason: .syntax, message: "TOML syntax: \(error)")])
        }
        var reader = FileReader(path: path, lines: KeyLines(text))
        let configuration = reader.configuration(root)
        return (configuration, reader.problems)
    }

    private init(path: String?, lines: KeyLines) {
        self.path = path
        self.lines = lines
    }

    private mutating func configuration(_ root: TOMLTable) -> GatewayConfiguration {
        var configuration = GatewayConfiguration.defaults
        let top = ConfigKeyPath([])
        refuseUnknownKeys(root, at: top, known: ["network", "state_dir", "log_level", "api", "island", "dht", "sip", "policy", "security", "relay", "link"])
        if let value = string(root, "network", in: top, Validate.network) { configuration.network = value }
        if let value = string(root, "state_dir", in: top, Validate.stateDirectory) { configuration.stateDirectory = value }
        if let value = string(root, "log_level", in: top, Validate.logLevel) { configuration.logLevel = value }

        if let (api, path) = table(root, "api", in: top) {
            refuseUnknownKeys(api, at: path, known: ["listen"])
            if let value = string(api, "listen", in: path, Validate.listen) { configuration.api.listen = value }
        }
        if let (island, path) = table(root, "island", in: top) {
            refuseUnknownKeys(island, at: path, known: ["name", "priority", "heartbeat"])
            if let value = string(island, "name", in: path, Validate.islandName) { configuration.island.name = value }
            if let value = integer(island, "priority", in: path, Validate.priority) { configuration.island.priority = value }
            if let value = number(island, "heartbeat", in: path, Validate.heartbeat) { configuration.island.heartbeat = value }
        }
        if let (dht, path) = table(root, "dht", in: top) {
            refuseUnknownKeys(dht, at: path, known: ["engine", "port", "bootstrap", "structure_threshold", "subnet_limit"])
            if let value = string(dht, "engine", in: path, Validate.engine) { configuration.dht.engine = value }
            if let value = integer(dht, "port", in: path, Validate.port) { configuration.dht.port = value }
            if let value = strings(dht, "bootstrap", in: path, Validate.bootstrap) { configuration.dht.bootstrap = value }
            if let value = integer(dht, "structure_threshold", in: path, Validate.structureThreshold) {
                configuration.dht.structureThreshold = value
            }
            if let value = integer(dht, "subnet_limit", in: path, Validate.subnetLimit) { configuration.dht.subnetLimit = value }
        }
        if let (sip, path) = table(root, "sip", in: top) {
            refuseUnknownKeys(sip, at: path, known: ["enabled", "port", "mode", "registrar", "min_expires", "max_expires", "realm", "users", "probe_contacts"])
            if let value = bool(sip, "enabled", in: path) { configuration.sip.enabled = value }
            if let value = integer(sip, "port", in: path, Validate.port) { configuration.sip.port = value }
            if let value = string(sip, "mode", in: path, Validate.sipMode) { configuration.sip.mode = value }
            if let value = bool(sip, "registrar", in: path) { configuration.sip.registrar = value }
            if let value = bool(sip, "probe_contacts", in: path) { configuration.sip.probeContacts = value }
            if let value = integer(sip, "min_expires", in: path, Validate.expires) { configuration.sip.minimumExpires = value }
            if let value = integer(sip, "max_expires", in: path, Validate.expires) { configuration.sip.maximumExpires = value }
            if let value = string(sip, "realm", in: path, Validate.realm) { configuration.sip.realm = value }
            if let (users, usersPath) = table(sip, "users", in: path) {
                var credentials: [String: String] = [:]
                for user in users.keys.sorted() {
                    if let password = string(users, user, in: usersPath, Validate.realm) { credentials[user] = password }
                }
                configuration.sip.users = credentials
            }
            if configuration.sip.minimumExpires > configuration.sip.maximumExpires {
                report(path.appending("min_expires"), .outOfRange,
                       "min_expires \(configuration.sip.minimumExpires) is above max_expires \(configuration.sip.maximumExpires)")
            }
        }
        if let (relay, path) = table(root, "relay", in: top) {
            refuseUnknownKeys(relay, at: path, known: ["mode", "port", "lan_routed"])
            if let value = string(relay, "mode", in: path, Validate.relayMode) { configuration.relay.mode = value }
            if let value = integer(relay, "port", in: path, Validate.port) { configuration.relay.port = value }
            if let value = bool(relay, "lan_routed", in: path) { configuration.relay.lanRouted = value }
        }
        if let (security, path) = table(root, "security", in: top) {
            refuseUnknownKeys(security, at: path, known: ["network_key_file", "network_key", "open"])
            if let value = string(security, "network_key_file", in: path, Validate.keyFile) { configuration.security.networkKeyFile = value }
            if let value = string(security, "network_key", in: path, Validate.networkKey) { configuration.security.networkKey = value }
            if let value = bool(security, "open", in: path) { configuration.security.open = value }
        }
        if let (policy, path) = table(root, "policy", in: top) {
            configuration.policy = self.policy(policy, at: path)
        }
        if let links = links(root, in: top) { configuration.links = links }
        return configuration
    }

    // MARK: [[link]] tables (router mode)

    private mutating func links(_ root: TOMLTable, in top: ConfigKeyPath) -> [LinkSettings]? {
        guard let value = root["link"] else { return nil }
        let path = top.appending("link")
        guard let tables = value.array, tables.allSatisfy({ $0.type == .table }) else {
            report(path, .wrongType, "expected links as [[link]] tables (interface = \"eth1\", island = \"staff\"), found \(describe(value))")
            return nil
        }
        let before = problems.count
        var links: [LinkSettings] = []
        for (offset, element) in tables.enumerated() {
            guard let table = element.table else { continue }
            let linkPath = path.appending(index: offset + 1)
            refuseUnknownKeys(table, at: linkPath, known: ["interface", "island"])
            if table["interface"] == nil { report(linkPath, .missingKey, "a link needs interface = \"IFACE\" (e.g. \"eth1\" or \"eth0.20\")") }
            guard let interface = string(table, "interface", in: linkPath, Validate.interfaceName) else { continue }
            var link = LinkSettings(interface: interface)
            if table["island"] != nil {
                guard let island = string(table, "island", in: linkPath, Validate.islandName) else { continue }
                link.island = island
            }
            links.append(link)
        }
        guard problems.count == before else { return nil }
        for problem in LinkSettings.problems(links) { report(path, .conflict, problem) }
        return problems.count == before ? links : nil
    }

    // MARK: the [policy] section

    private mutating func policy(_ section: TOMLTable, at path: ConfigKeyPath) -> Policy {
        var policy = Policy.permitAll
        refuseUnknownKeys(section, at: path, known: ["default", "tags", "zones", "rule"])
        if let value = string(section, "default", in: path, Validate.action) { policy.defaultAction = value }
        var zones: [String: IslandSet] = [:]
        if let (table, zonesPath) = table(section, "zones", in: path) {
            for name in table.keys.sorted() {
                let zonePath = zonesPath.appending(name)
                guard (try? Validate.tagName(name)) != nil else {
                    report(zonePath, .invalidValue, "\"\(name)\" is not a zone name: letters, digits, '-' and '_'")
                    continue
                }
                guard let members = strings(table, name, in: zonesPath, Validate.islandMatch) else { continue }
                guard !members.isEmpty else {
                    report(zonePath, .invalidValue, "zone \"\(name)\" names no island or link")
                    continue
                }
                zones[name.lowercased()] = IslandSet(label: name, members: members)
            }
        }
        if let (tags, tagsPath) = table(section, "tags", in: path) {
            for name in tags.keys.sorted() {
                let tagPath = tagsPath.appending(name)
                guard (try? Validate.tagName(name)) != nil else {
                    report(tagPath, .invalidValue, "\"\(name)\" is not a tag name: letters, digits, '-' and '_'")
                    continue
                }
                if let types = strings(tags, name, in: tagsPath, Validate.serviceType) { policy.tags[name] = Set(types) }
            }
        }
        guard let value = section["rule"] else { return policy }
        let rulesPath = path.appending("rule")
        guard let rules = value.array, rules.allSatisfy({ $0.type == .table }) else {
            report(rulesPath, .wrongType, "expected rules as [[policy.rule]] tables, found \(describe(value))")
            return policy
        }
        for (offset, element) in rules.enumerated() {
            guard let rule = element.table else { continue }
            if let parsed = self.rule(rule, at: rulesPath.appending(index: offset + 1), tags: policy.tags, zones: zones) {
                policy.rules.append(parsed)
            }
        }
        return policy
    }

    private mutating func rule(_ table: TOMLTable, at path: ConfigKeyPath, tags: [String: Set<ServiceType>],
                               zones: [String: IslandSet]) -> PolicyRule? {
        let before = problems.count
        refuseUnknownKeys(table, at: path, known: ["action", "direction", "type", "tag", "island", "name", "host", "address",
                                                   "from", "to", "one_way", "comment"])
        let action = string(table, "action", in: path, Validate.action)
        if table["action"] == nil {
            report(path, .missingKey, "a rule needs action = \"permit\" or \"deny\"")
        }
        var rule = PolicyRule(action ?? .deny, line: lines.line(of: path))
        if let value = string(table, "direction", in: path, Validate.direction) { rule.direction = value }
        if let value = string(table, "type", in: path, Validate.typeMatch) { rule.type = value }
        if let tag = string(table, "tag", in: path, Validate.tagName) {
            if table["type"] != nil {
                report(path.appending("tag"), .conflict, "a rule matches by type or by tag, not both")
            } else if tags[tag] == nil {
                let defined = tags.keys.sorted().joined(separator: ", ")
                report(path.appending("tag"), .invalidValue,
                       "tag \"\(tag)\" is not defined under [policy.tags]" + (defined.isEmpty ? "" : " (defined: \(defined))"))
            } else {
                rule.type = .tag(tag)
            }
        }
        if let value = string(table, "island", in: path, Validate.islandMatch) { rule.island = value }
        if let value = string(table, "name", in: path, Validate.nameGlob) { rule.name = value }
        if let value = string(table, "host", in: path, Validate.nameGlob) { rule.host = value }
        if let value = string(table, "address", in: path, Validate.addressPrefix) { rule.address = value }
        // A zone's name stands for its members; anything else is one island or link.
        let islandSet = { (text: String) throws(Invalid) -> IslandSet in
            if let zone = zones[text.lowercased()] { return zone }
            return IslandSet(try Validate.islandMatch(text))
        }
        if let value = string(table, "from", in: path, islandSet) { rule.from = value }
        if let value = string(table, "to", in: path, islandSet) { rule.to = value }
        if let value = bool(table, "one_way", in: path) {
            if value, table["from"] == nil || table["to"] == nil {
                report(path.appending("one_way"), .conflict, "one_way = true needs both from and to (the reverse crossing is to -> from)")
            }
            rule.oneWay = value
        }
        if let value = string(table, "comment", in: path, { (text: String) throws(Invalid) in text }) { rule.comment = value }
        return problems.count == before ? rule : nil
    }

    // MARK: typed access; each reports a missing, mistyped or invalid value and returns nil

    private mutating func report(_ key: ConfigKeyPath, _ reason: ConfigReason, _ message: String) {
        problems.append(ConfigProblem(source: .file(path: path, line: lines.line(of: key), column: nil),
                                      key: key.description, reason: reason, message: message))
    }

    private mutating func refuseUnknownKeys(_ table: TOMLTable, at path: ConfigKeyPath, known: [String]) {
        for key in table.keys.sorted() where !known.contains(key) {
            let hint = suggestion(for: key, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
            let where_ = path.components.isEmpty ? "at the top level" : "in [\(path)]"
            report(path.appending(key), .unknownKey, "unknown key \(where_)\(hint); known: \(known.joined(separator: ", "))")
        }
    }

    private mutating func table(_ table: TOMLTable, _ key: String, in path: ConfigKeyPath) -> (TOMLTable, ConfigKeyPath)? {
        guard let value = table[key] else { return nil }
        let keyPath = path.appending(key)
        guard let result = value.table else {
            report(keyPath, .wrongType, "expected a table ([\(keyPath)]), found \(describe(value))")
            return nil
        }
        return (result, keyPath)
    }

    private mutating func string<V>(_ table: TOMLTable, _ key: String, in path: ConfigKeyPath,
                                    _ validate: (String) throws(Invalid) -> V) -> V? {
        value(table, key, in: path, expected: "a string", { $0.string }, validate)
    }

    private mutating func integer<V>(_ table: TOMLTable, _ key: String, in path: ConfigKeyPath,
                                     _ validate: (Int) throws(Invalid) -> V) -> V? {
        value(table, key, in: path, expected: "an integer", { $0.int }, validate)
    }

    /// An integer or a float (`heartbeat = 1` and `heartbeat = 0.5` both read as seconds).
    private mutating func number<V>(_ table: TOMLTable, _ key: String, in path: ConfigKeyPath,
                                    _ validate: (Double) throws(Invalid) -> V) -> V? {
        value(table, key, in: path, expected: "a number", { $0.double ?? $0.int.map(Double.init) }, validate)
    }

    private mutating func bool(_ table: TOMLTable, _ key: String, in path: ConfigKeyPath) -> Bool? {
        value(table, key, in: path, expected: "true or false", { $0.bool }) { (flag: Bool) throws(Invalid) in flag }
    }

    /// The value under `key` if present, of the expected TOML type, and valid.
    private mutating func value<T, V>(_ table: TOMLTable, _ key: String, in path: ConfigKeyPath, expected: String,
                                      _ extract: (any TOMLValueConvertible) -> T?, _ validate: (T) throws(Invalid) -> V) -> V? {
        guard let value = table[key] else { return nil }
        guard let typed = extract(value) else {
            report(path.appending(key), .wrongType, "expected \(expected), found \(describe(value))")
            return nil
        }
        return validated(typed, at: path.appending(key), validate)
    }

    /// An array of strings, each validated; nil if any element is wrong.
    private mutating func strings<V>(_ table: TOMLTable, _ key: String, in path: ConfigKeyPath,
                                     _ validate: (String) throws(Invalid) -> V) -> [V]? {
        guard let value = table[key] else { return nil }
        let keyPath = path.appending(key)
        guard let array = value.array else {
            report(keyPath, .wrongType, "expected an array of strings, found \(describe(value))")
            return nil
        }
        var result: [V] = []
        for element in array {
            guard let text = element.string else {
                report(keyPath, .wrongType, "expected an array of strings, found an element that is \(describe(element))")
                return nil
            }
            guard let item = validated(text, at: keyPath, validate) else { return nil }
            result.append(item)
        }
        return result
    }

    private mutating func validated<T, V>(_ value: T, at path: ConfigKeyPath, _ validate: (T) throws(Invalid) -> V) -> V? {
        do {
            return try validate(value)
        } catch {
            report(path, error.reason, error.message)
            return nil
        }
    }

    private func describe(_ value: TOMLValueConvertible) -> String {
        switch value.type {
        case .string: "a string (\"\(value.string ?? "")\")"
        case .int: "an integer (\(value.int ?? 0))"
        case .double: "a floating-point number (\(value.double ?? 0))"
        case .bool: "a boolean (\(value.bool ?? false))"
        case .array: "an array"
        case .table: "a table"
        case .date, .time, .dateTime: "a \(value.type)"
        }
    }
}
