import DNSSD
import Primitives

// DNS-SD's `IPAddress` and the core's `Endpoint.Address` are the same two integers in host
// order; the relay moves between them (a service's addresses, a leader's endpoints).

extension IPAddress {
    public init(_ address: Endpoint.Address) {
        switch address {
        case .v4(let value): self = .v4(value)
        case .v6(let high, let low): self = .v6(high, low)
        }
    }
}

extension Endpoint.Address {
    public init(_ address: IPAddress) {
        switch address {
        case .v4(let value): self = .v4(value)
        case .v6(let high, let low): self = .v6(high, low)
        }
    }
}
