import Foundation
import Testing
import SwiftTuneCPU
import SwiftTuneModels
import SwiftTuneTokenizers
@testable import SwiftTuneEngine

/// `Tests/Fixtures`.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")
/// The tiny Qwen2 with a real 300-token tokenizer.
let qwen2Folder = fixtures.appendingPathComponent("golden/qwen2")
/// A LoRA adapter for it, written by swift-tune (r 4, all-linear).
let swiftAdapter = fixtures.appendingPathComponent("lora/swift_adapter")

/// A fresh engine over a fixture model (each test gets its own model: adapters mutate it).
func makeEngine(family: String = "qwen2", options: EngineOptions = EngineOptions(maxBatchSize: 4, maxModelLength: 128))
    throws -> GenerationEngine {
    let backend = CPUBackend(threadCount: 2)
    let model = try DecoderModel.load(directory: fixtures.appendingPathComponent("golden/\(family)"), backend: backend)
    return try GenerationEngine(model: model, tokenizer: try Tokenizer(contentsOf: qwen2Folder), options: options)
}

/// Prompts of different lengths (ids inside every fixture's vocabulary).
let prompts: [[Int32]] = [
    [5, 17, 99, 4, 250, 31, 8],
    [200, 3],
    [9, 9, 9, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 120, 121, 122, 7, 1, 2],
]

/// Fails with where the first difference is.
func expectSameTokens(_ actual: [Int32], _ expected: [Int32], _ label: String,
                      sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual != expected else { return }
    let first = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(actual.count, expected.count)
    let message = "\(label): tokens differ first at step \(first) of \(expected.count) (got \(actual.count) tokens: "
        + "\(Array(actual.prefix(first + 3))), expected \(Array(expected.prefix(first + 3))))"
    Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
}
