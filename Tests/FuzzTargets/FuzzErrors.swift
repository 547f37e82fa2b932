import Foundation
import SwiftTuneChat
import SwiftTuneCheckpoint
import SwiftTuneData
import SwiftTuneHub
import SwiftTuneJSON
import SwiftTuneQuantization
import SwiftTuneServer
import SwiftTuneTokenizers

/// Sorts an error thrown by a target into a refusal (one of the project's typed errors, with a non-empty message)
/// or an unexpected failure.
enum FuzzErrors {
    static func outcome(_ error: any Error) -> FuzzOutcome {
        let typed: Bool = switch error {
        case is CheckpointError, is JSONError, is DataError, is TokenizerError, is ChatError, is HubError,
             is QuantizationError, is OpenAIError: true
        default: false
        }
        let message = "\(error)"
        guard typed else { return .unexpected("untyped error \(type(of: error)): \(message)") }
        guard !message.isEmpty else { return .unexpected("\(type(of: error)) with an empty message") }
        return .refused(message)
    }

    /// Runs `body`, mapping a throw to its outcome.
    static func run(_ body: () throws -> FuzzOutcome) -> FuzzOutcome {
        do { return try body() } catch { return outcome(error) }
    }
}

/// `Tests/Fixtures`, found from this file's path (the fuzz binary and the tests run in the same checkout).
enum FuzzFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    /// The tiny Qwen2 (context 128) with a real 300-token byte-level tokenizer.
    static let qwen2 = folder.appendingPathComponent("golden/qwen2")
}
