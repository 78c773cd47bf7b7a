/// Where a node's sequence counter survives restarts (`RendezvousClient`): loaded once when
/// an engine starts, saved after every write so that saved values never go backwards.
public struct SequenceStore: Sendable {
    public var load: @Sendable () -> UInt64
    public var save: @Sendable (UInt64) -> Void

    public init(load: @escaping @Sendable () -> UInt64, save: @escaping @Sendable (UInt64) -> Void) {
        self.load = load
        self.save = save
    }

    /// Nothing persisted: the wall clock alone is the floor.
    public static let none = SequenceStore(load: { 0 }, save: { _ in })
}
