import CAvahi

/// The C callbacks of `AvahiDomain` (clients, browsers, resolvers, entry groups, timers):
/// each turns Avahi's `userdata` back into the domain and hands the event to the method
/// that handles it. They run on Avahi's thread with the poll lock held, so nothing they
/// call takes the lock.
///
/// `userdata` is the domain itself, unretained (`context(of:)`): callbacks run only while
/// Avahi's thread does, and the domain's `deinit` stops that thread before anything else.
enum AvahiCallbacks {
    static func context(of domain: AvahiDomain) -> UnsafeMutableRawPointer {
        Unmanaged.passUnretained(domain).toOpaque()
    }

    private static func domain(_ userdata: UnsafeMutableRawPointer) -> AvahiDomain {
        Unmanaged<AvahiDomain>.fromOpaque(userdata).takeUnretainedValue()
    }

    static let client: AvahiClientCallback = { client, state, userdata in
        guard let client, let userdata else { return }
        domain(userdata).clientChanged(client, state)
    }

    static let objectClient: AvahiClientCallback = { client, state, userdata in
        guard let client, let userdata else { return }
        domain(userdata).objectClientChanged(client, state)
    }

    static let typeBrowser: AvahiServiceTypeBrowserCallback = {
        _, interface, protocolValue, event, type, _, _, userdata in
        guard let userdata else { return }
        domain(userdata).typeBrowserEvent(interface, protocolValue, event, type)
    }

    static let serviceBrowser: AvahiServiceBrowserCallback = {
        browser, interface, protocolValue, event, name, type, domainText, flags, userdata in
        guard let browser, let userdata else { return }
        domain(userdata).serviceBrowserEvent(browser, interface, protocolValue, event, name, domainText, flags)
    }

    static let resolver: AvahiServiceResolverCallback = {
        resolver, _, _, event, _, _, _, host, address, port, txt, _, userdata in
        guard let resolver, let userdata else { return }
        domain(userdata).resolverEvent(resolver, event, host, address, port, txt)
    }

    static let recordBrowser: AvahiRecordBrowserCallback = {
        browser, _, protocolValue, event, _, _, _, rdata, size, _, userdata in
        guard let browser, let userdata else { return }
        domain(userdata).recordBrowserEvent(browser, protocolValue, event, rdata, size)
    }

    static let entryGroup: AvahiEntryGroupCallback = { group, state, userdata in
        guard let group, let userdata else { return }
        domain(userdata).groupChanged(group, state)
    }

    /// The reconnect timer: frees the failed client (unsafe inside its own callback) and
    /// makes a new one.
    static let reconnect: AvahiTimeoutCallback = { _, userdata in
        guard let userdata else { return }
        let domain = AvahiCallbacks.domain(userdata)
        domain.freeClient()
        domain.connect()
    }

    /// The resolver retry timer: failed resolvers that are due are made again.
    static let resolverRetry: AvahiTimeoutCallback = { _, userdata in
        guard let userdata else { return }
        domain(userdata).retryResolvers()
    }

    /// The refresh timer: what heard records showed out of date is resolved or watched again.
    static let refresh: AvahiTimeoutCallback = { _, userdata in
        guard let userdata else { return }
        domain(userdata).refreshDue()
    }

    /// The resync timer: services not seen again since the reconnect are reported removed.
    static let resync: AvahiTimeoutCallback = { _, userdata in
        guard let userdata else { return }
        domain(userdata).finishResync()
    }
}
