import Dispatch
import Foundation
import Synchronization

/// Turns SIGINT and SIGTERM into a flag the training loop checks between steps, so an interrupted run saves
/// a checkpoint at the current step and exits cleanly. A second signal exits at once (status 130).
public final class StopSignal: @unchecked Sendable {
    private let count = Atomic<Int>(0)
    private var sources: [any DispatchSourceSignal] = []

    /// Installs the handlers (replacing the default terminate action) until `cancel()`.
    public init(signals: [Int32] = [SIGINT, SIGTERM]) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [unowned self] in self.receive() }
            source.resume()
            sources.append(source)
        }
    }

    /// Records a stop request, as a signal does (also for tests).
    public func receive() {
        if count.add(1, ordering: .sequentiallyConsistent).newValue > 1 { exit(130) }
        FileHandle.standardError.write(Data("\nstopping after this step and saving a checkpoint (send again to quit now)\n".utf8))
    }

    /// Whether a stop was requested.
    public var isRequested: Bool { count.load(ordering: .sequentiallyConsistent) > 0 }

    /// Removes the handlers and restores the default actions.
    public func cancel() {
        for source in sources { source.cancel() }
        sources = []
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
