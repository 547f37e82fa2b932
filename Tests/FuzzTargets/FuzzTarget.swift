import Foundation

/// One entry point that a user's file or request reaches, driven with arbitrary bytes (`scripts/fuzz.sh`, the
/// `swift-tune-fuzz` libFuzzer binary, and the replay tests in SwiftTuneFuzzTests).
///
/// `run` must never crash, hang or allocate without bound on any input: every refusal is one of the project's typed
/// errors (`FuzzOutcome.refused`). An error of any other type, or a broken invariant the target checks (a strict
/// parse that the Python mode reads differently, say), is `FuzzOutcome.unexpected`, which the fuzz binary turns into
/// a crash report.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `GGUFFile`: header, metadata, tensor infos, every accepted tensor dequantized, the decoder config and the
    /// tokenizer built from the metadata.
    case gguf
    /// The safetensors header (with every accepted tensor loaded) and `model.safetensors.index.json`.
    case safetensors
    /// `JSONParser` in strict and `.python` modes, whole documents and top-level arrays.
    case json
    /// The dataset readers (JSON array, JSON Lines, CSV) through the row preprocessor.
    case dataset
    /// `tokenizer.json` loading, then encoding and decoding of the rest of the input.
    case tokenizer
    /// Dataset rows rendered by every built-in chat template, for training and for generation.
    case chatTemplate = "chat_template"
    /// The server's request decoding: `ChatCompletions.plan` and the completions route's body.
    case server

    /// Loads what the target reads besides its input (the fixture tokenizer and model), so that the first input is
    /// not charged for it against the fuzzer's per-input timeout.
    public func prepare() {
        switch self {
        case .tokenizer, .chatTemplate: _ = TokenizerFuzzing.fixture
        case .server: _ = ServerFuzzing.model
        case .gguf, .safetensors, .json, .dataset: break
        }
    }

    /// Runs the target once on `bytes`.
    public func run(_ bytes: UnsafeRawBufferPointer) -> FuzzOutcome {
        switch self {
        case .gguf: GGUFFuzzing.run(bytes)
        case .safetensors: SafetensorsFuzzing.run(bytes)
        case .json: JSONFuzzing.run(bytes)
        case .dataset: DatasetFuzzing.run(bytes)
        case .tokenizer: TokenizerFuzzing.run(bytes)
        case .chatTemplate: ChatTemplateFuzzing.run(bytes)
        case .server: ServerFuzzing.run(bytes)
        }
    }

    /// Runs the target once on `bytes`.
    public func run(_ bytes: [UInt8]) -> FuzzOutcome {
        bytes.withUnsafeBytes { run($0) }
    }

    /// Hand-written inputs that start the corpus beside the fixtures (the CVE patterns for GGUF).
    public var builtinSeeds: [(name: String, bytes: [UInt8])] {
        switch self {
        case .gguf: GGUFCases.all.map { ($0.name, $0.bytes) }
        case .safetensors: SafetensorsFuzzing.seeds
        case .server: ServerFuzzing.seeds
        case .chatTemplate: ChatTemplateFuzzing.seeds
        case .json, .dataset, .tokenizer: []
        }
    }
}

/// What one run of a `FuzzTarget` did.
public enum FuzzOutcome: Sendable, Equatable {
    /// The input was read (and, for a file, its contents used) without an error.
    case accepted
    /// The input was refused with this typed error's message.
    case refused(String)
    /// A failure that should never happen: an untyped error or a broken invariant (the fuzz binary crashes on it).
    case unexpected(String)

    /// The refusal's message, if any.
    public var message: String? {
        switch self {
        case .accepted: nil
        case let .refused(text), let .unexpected(text): text
        }
    }
}
