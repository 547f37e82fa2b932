import Foundation
import NIOCore

/// The requests in flight on each open connection, cancelled when it closes. One close callback per connection,
/// registered by its first request and kept until it closes: a keep-alive connection carries any number of
/// requests, and a callback per request would hold memory for as long as the connection stays open.
final class DisconnectWatch: @unchecked Sendable {
    static let shared = DisconnectWatch()

    /// One request's entry; `remove()` it when the request is done.
    struct Registration: Sendable {
        let watch: DisconnectWatch
        let key: ObjectIdentifier
        let token: Int

        func remove() {
            watch.remove(self)
        }
    }

    /// A connection whose close is observed (until it closes). Weak, so a channel that goes away unclosed (an
    /// in-memory test channel) is not mistaken for a new one at the same address.
    private final class Watched {
        weak var channel: (any Channel)?
        init(_ channel: any Channel) { self.channel = channel }
    }

    private let lock = NSLock()
    private var watched: [ObjectIdentifier: Watched] = [:]
    /// What to run when each connection closes: its requests in flight.
    private var actions: [ObjectIdentifier: [Int: @Sendable () -> Void]] = [:]
    private var nextToken = 0

    /// Open connections observed, and requests registered now (for tests).
    var counts: (connections: Int, requests: Int) {
        lock.withLock { (watched.count, actions.values.reduce(0) { $0 + $1.count }) }
    }

    func add(_ channel: any Channel, action: @escaping @Sendable () -> Void) -> Registration {
        let key = ObjectIdentifier(channel)
        let (token, isNew) = lock.withLock { () -> (Int, Bool) in
            let token = nextToken
            nextToken += 1
            actions[key, default: [:]][token] = action
            guard watched[key]?.channel !== channel else { return (token, false) }
            watched[key] = Watched(channel)
            return (token, true)
        }
        if isNew {
            channel.closeFuture.whenComplete { [self] _ in
                let pending = lock.withLock { () -> [Int: @Sendable () -> Void]? in
                    watched[key] = nil
                    return actions.removeValue(forKey: key)
                }
                for action in pending?.values ?? [:].values { action() }
            }
        }
        return Registration(watch: self, key: key, token: token)
    }

    private func remove(_ registration: Registration) {
        lock.withLock {
            actions[registration.key]?[registration.token] = nil
            if actions[registration.key]?.isEmpty == true { actions[registration.key] = nil }
        }
    }
}
