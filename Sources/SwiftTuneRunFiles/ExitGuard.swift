import Foundation
import Synchronization

/// Held by a hard exit (never released) and around the few renames that replace a checkpoint, so a process exit
/// (`StopSignal` in SwiftTuneTraining) never lands between them.
private let exitLock = Mutex<Void>(())

/// The process-wide ordering between a hard exit and the rename sections of `CheckpointStore`.
public enum ExitGuard {
    /// Runs `body` so that a hard exit waits for it (a few renames; never long work).
    public static func withoutExit<T>(_ body: () throws -> T) rethrows -> T {
        try exitLock.withLock { _ in try body() }
    }

    /// Exits the process with `status` once no `withoutExit` section is running; later ones never start.
    public static func exit(status: Int32) -> Never {
        exitLock.withLock { _ in _exit(status) }
    }
}
