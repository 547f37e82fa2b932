import Foundation
import SwiftTuneAdapters
import SwiftTuneChat
import SwiftTuneCheckpoint
import SwiftTuneData
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneRunFiles

extension TrainingSetup {
    /// Fails early when `directory` (or the nearest existing folder above it) cannot be written.
    static func checkWritable(_ directory: URL) throws {
        var existing = directory.standardizedFileURL
        while !FileManager.default.fileExists(atPath: existing.path), existing.pathComponents.count > 1 {
            existing.deleteLastPathComponent()
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: existing.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError.unwritableOutput(path: directory.path, reason: "\(existing.path) is not a folder")
        }
        guard FileManager.default.isWritableFile(atPath: existing.path) else {
            throw TrainingError.unwritableOutput(path: directory.path, reason: "\(existing.path) is not writable")
        }
    }

    /// Loads a checkpoint's trainable weights into the model as the flags built it: the adapter tensors for LoRA
    /// (so an adapter of another rank or target set is refused by key and shape), every weight for full fine-tuning.
    static func loadWeights(from checkpoint: URL, into model: DecoderModel, fullFineTuning: Bool) throws {
        let targets: [(key: String, parameter: Parameter)]
        let weights: ModelWeights
        if fullFineTuning {
            weights = try ModelWeights(directory: checkpoint)
            targets = model.parameters.map { ($0.name, $0) }
        } else {
            weights = try ModelWeights(file: checkpoint.appendingPathComponent(LoRAAdapter.weightsFileName))
            targets = try model.adapterParameters().map { (LoRAAdapter.keyPrefix + $0.key, $0.parameter) }
            let expected = Set(targets.map(\.key))
            if let extra = weights.names.first(where: { !expected.contains($0) }) {
                throw TrainingError.checkpointMismatch(
                    path: checkpoint.path, reason: "it has \(extra), which this run's LoRA flags do not create")
            }
        }
        for (key, parameter) in targets {
            guard weights.contains(key) else {
                throw TrainingError.checkpointMismatch(path: checkpoint.path, reason: "no tensor \(key)")
            }
            let value = try weights.tensor(key, on: model.backend, as: .f32)
            guard value.shape == parameter.shape else {
                throw TrainingError.checkpointMismatch(
                    path: checkpoint.path, reason: "\(key) has shape \(value.shape), this run's model has \(parameter.shape)")
            }
            try model.backend.copy(value, to: parameter.value)
        }
    }

    /// A full fine-tuning checkpoint: HF `config.json`, sharded safetensors and the tokenizer files.
    static func saveFullModel(_ model: DecoderModel, source: URL, to folder: URL) throws {
        try SafetensorsWriter.writeSharded(tensors: model.parameters.map { ($0.name, $0.value) }, to: folder,
                                           maxShardBytes: 5_000_000_000)
        for name in ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                     "special_tokens_map.json"] {
            let file = source.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: file.path) {
                try FileManager.default.copyItem(at: file, to: folder.appendingPathComponent(name))
            }
        }
    }

    static func drawCurves(_ log: TrainingLog, to folder: URL) throws {
        var series: [String: [(step: Int, value: Double)]] = [:]
        for record in log.records {
            guard case let .text(progress) = record["global_step/max_steps"],
                  let step = progress.split(separator: "/").first.flatMap({ Int($0) }) else { continue }
            let pairs: [(String, String)] = [("loss", "train_loss"), ("learning_rate", "train_learning_rate"),
                                             ("grad_norm", "train_grad_norm"), ("token_acc", "train_token_acc"),
                                             ("eval_loss", "eval_loss"), ("eval_token_acc", "eval_token_acc")]
            for (key, name) in pairs {
                if let value = record.number(key) { series[name, default: []].append((step, value)) }
            }
        }
        try CurvePlot.write(series: series.keys.sorted().map { ($0, series[$0] ?? []) }, to: folder)
    }

    static func writeJSONLines(_ rows: [DatasetRow], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = ""
        for row in rows { text += String(decoding: try encoder.encode(row), as: UTF8.self) + "\n" }
        try Data(text.utf8).write(to: url, options: .atomic)
    }
}
