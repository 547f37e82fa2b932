import Foundation
import SwiftTuneEngine

/// What `infer --adapters CKPT` takes from the training run: the `args.json` that `sft`/`pt` write into the run
/// folder and every checkpoint (ms-swift's `load_args_from_ckpt`), found in the checkpoint folder or its parent.
public struct RunArguments: Sendable, Equatable {
    /// The `args.json` that was read.
    public var file: URL
    /// `model`: the base model the run trained (a folder path, as given to `sft`).
    public var model: String?
    /// `template`: the template name the run resolved.
    public var template: String?
    /// `system`: the run's `--system`, if any.
    public var system: String?
    /// `torch_dtype`.
    public var torchDtype: String?
    /// `train_type`: `lora` or `full`.
    public var trainType: String?
    /// `output_dir`: the run folder (where `val_dataset.jsonl` is).
    public var outputDirectory: String?
    /// `model_name`, `model_author` (self-cognition), for the record.
    public var modelName: [String]?
    public var modelAuthor: [String]?

    /// Reads `checkpoint/args.json`, else `checkpoint/../args.json`; nil when neither exists.
    public static func find(near checkpoint: URL) throws -> RunArguments? {
        for folder in [checkpoint, checkpoint.deletingLastPathComponent()] {
            let url = folder.appendingPathComponent("args.json")
            if FileManager.default.fileExists(atPath: url.path) { return try RunArguments(url: url) }
        }
        return nil
    }

    /// Reads one `args.json`.
    public init(url: URL) throws {
        file = url
        guard let data = FileManager.default.contents(atPath: url.path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw GenerationError.badRunFile(path: url.path, reason: "not a readable JSON object",
                                             hint: "it is written by swift-tune sft / ms-swift; pass --model instead")
        }
        func string(_ key: String) -> String? {
            guard let value = object[key] as? String, !value.isEmpty else { return nil }
            return value
        }
        func strings(_ key: String) -> [String]? {
            if let list = object[key] as? [String] { return list }
            return string(key).map { [$0] }
        }
        model = string("model")
        template = string("template")
        system = string("system")
        torchDtype = string("torch_dtype")
        trainType = string("train_type")
        outputDirectory = string("output_dir")
        modelName = strings("model_name")
        modelAuthor = strings("model_author")
    }

    /// The run folder: `output_dir` when it exists, else the folder of `args.json` if it is not a checkpoint,
    /// else its parent.
    public var runFolder: URL {
        if let outputDirectory, FileManager.default.fileExists(atPath: outputDirectory) {
            return URL(fileURLWithPath: outputDirectory)
        }
        let folder = file.deletingLastPathComponent()
        return folder.lastPathComponent.hasPrefix("checkpoint-") ? folder.deletingLastPathComponent() : folder
    }

    /// The run's validation rows (`val_dataset.jsonl`, written when the run split its data).
    public var validationFile: URL { runFolder.appendingPathComponent("val_dataset.jsonl") }

    /// The base model: `model` as written (an HF folder or a GGUF file; absolute, or relative to the current folder).
    public func modelFolder() throws -> URL {
        guard let model else {
            throw GenerationError.modelNotFound(reason: "\(file.path) names no model", hint: "pass --model")
        }
        let url = URL(fileURLWithPath: model)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw GenerationError.modelNotFound(
                reason: "\(file.path) names the model \(model), which does not exist here",
                hint: "pass --model with the base model (a folder or a .gguf file)")
        }
        return url
    }
}
