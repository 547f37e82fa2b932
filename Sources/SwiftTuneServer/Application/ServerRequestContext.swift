import Foundation
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

    /// Runs `action` once if the client's connection closes before the returned registration is removed (at once
    /// if it has already closed).
    func onDisconnect(_ action: @escaping @Sendable () -> Void) -> DisconnectWatch.Registration {
        DisconnectWatch.shared.add(channel, action: action)
    }
}
