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

/// The requests in flight on each open connection, cancelled when it closes. One close callback per connection,
/// not per request: a keep-alive connection carries any number of requests, and a callback per request would
/// hold memory until the connection closes.
final class DisconnectWatch: @unchecked Sendable {
    static let shared = DisconnectWatch()

    /// One request's entry; `remove()` it when the request is done.
    struct Registration: Sendable {
        let key: ObjectIdentifier
        let token: Int

        func remove() {
            DisconnectWatch.shared.remove(self)
        }
    }

    private let lock = NSLock()
    private var connections: [ObjectIdentifier: [Int: @Sendable () -> Void]] = [:]
    private var nextToken = 0

    /// Connections with requests in flight (for tests: it returns to 0 when nothing runs).
    var count: Int { lock.withLock { connections.count } }

    func add(_ channel: any Channel, action: @escaping @Sendable () -> Void) -> Registration {
        let key = ObjectIdentifier(channel)
        let (token, isNew) = lock.withLock { () -> (Int, Bool) in
            let token = nextToken
            nextToken += 1
            let isNew = connections[key] == nil
            connections[key, default: [:]][token] = action
            return (token, isNew)
        }
        if isNew {
            channel.closeFuture.whenComplete { [self] _ in
                let actions = lock.withLock { connections.removeValue(forKey: key) }
                for action in actions?.values ?? [:].values { action() }
            }
        }
        return Registration(key: key, token: token)
    }

    private func remove(_ registration: Registration) {
        lock.withLock {
            connections[registration.key]?[registration.token] = nil
            if connections[registration.key]?.isEmpty == true { connections[registration.key] = nil }
        }
    }
}
