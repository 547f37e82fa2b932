import Foundation

/// `Tests/Fixtures`.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")
/// The tiny Qwen2 with a real 300-token tokenizer.
let qwen2Folder = fixtures.appendingPathComponent("golden/qwen2")
/// A LoRA adapter for it, written by swift-tune (r 4, all-linear).
let swiftAdapter = fixtures.appendingPathComponent("lora/swift_adapter")
