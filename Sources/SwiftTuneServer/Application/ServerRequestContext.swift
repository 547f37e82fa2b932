import Hummingbird
import NIOCore

/// The request context of the server's routes: Hummingbird's core storage and the client's connection, so that
/// work for a client that hangs up is stopped.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on (an in-memory channel under the router test framework).
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }

    /// Runs `action` once when the client's connection closes (at once if it already has).
    public func onDisconnect(_ action: @escaping @Sendable () -> Void) {
        channel.closeFuture.whenComplete { _ in action() }
    }
}
