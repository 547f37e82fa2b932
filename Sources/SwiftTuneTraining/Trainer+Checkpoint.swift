import Foundation
import SwiftTuneCheckpoint
import SwiftTuneTensor

extension Trainer {
    static let optimizerFileName = "optimizer.safetensors"
    static let stateFileName = "trainer_state.json"

    /// Saves `checkpoint-<globalStep>`: the model files, the optimizer state and `trainer_state.json`, atomically;
    /// then applies `--save_total_limit`, keeping the best checkpoint.
    @discardableResult
    func save(_ observer: (any TrainingObserver)?) throws -> URL {
        let folder = try store.save(step: globalStep) { folder in
            try writeModelFiles(folder)
            try SafetensorsWriter.write(tensors: optimizer.stateTensors, metadata: ["format": "swift-tune-adamw"],
                                        to: folder.appendingPathComponent(Self.optimizerFileName))
            try writeTrainerState(into: folder)
        }
        try store.rotate(limit: arguments.saveTotalLimit, keep: bestCheckpoint)
        observer?.checkpointSaved(folder)
        return folder
    }

    /// HF's `trainer_state.json`: the step, the log history, the best checkpoint.
    func writeTrainerState(into folder: URL) throws {
        var history = log.earlierLines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        for record in log.records {
            var entry: [String: Any] = [:]
            if case let .text(progress) = record["global_step/max_steps"],
               let step = progress.split(separator: "/").first.flatMap({ Int($0) }) {
                entry["step"] = step
            }
            for (key, value) in record.entries {
                switch value {
                case let .number(x): entry[key] = x.isFinite ? x : NSNull()
                case let .integer(n): entry[key] = n
                case let .text(s): entry[key] = s
                }
            }
            history.append(entry)
        }
        let state: [String: Any] = [
            "global_step": globalStep,
            "max_steps": totalSteps,
            "epoch": Double(globalStep) / Double(stepsPerEpoch),
            "num_train_epochs": arguments.numTrainEpochs,
            "logging_steps": arguments.loggingSteps,
            "save_steps": arguments.saveSteps,
            "eval_steps": arguments.evalSteps ?? arguments.saveSteps,
            "train_batch_size": arguments.perDeviceTrainBatchSize,
            "best_metric": bestEvalLoss.map { $0 as Any } ?? NSNull(),
            "best_model_checkpoint": bestCheckpoint.map { $0.path as Any } ?? NSNull(),
            "is_local_process_zero": true,
            "is_world_process_zero": true,
            "log_history": history,
            "seed": arguments.seed,
        ]
        let data = try JSONSerialization.data(withJSONObject: state, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: folder.appendingPathComponent(Self.stateFileName), options: .atomic)
    }

    /// Continues from `checkpoint` (a `checkpoint-N` folder of this kind of run): the step count and the optimizer
    /// state. The model's weights must already be loaded from it. With `onlyModel`, nothing else is restored.
    public func resume(from checkpoint: URL, onlyModel: Bool = false) throws {
        guard !onlyModel else { return }
        let stateURL = checkpoint.appendingPathComponent(Self.stateFileName)
        guard let data = FileManager.default.contents(atPath: stateURL.path),
              let state = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let step = state["global_step"] as? Int else {
            throw TrainingError.checkpointMismatch(path: checkpoint.path, reason: "no readable \(Self.stateFileName)")
        }
        guard step <= totalSteps else {
            throw TrainingError.checkpointMismatch(
                path: checkpoint.path, reason: "it is at step \(step), past this run's \(totalSteps) steps")
        }
        if let seed = state["seed"] as? UInt64, seed != arguments.seed {
            throw TrainingError.checkpointMismatch(
                path: checkpoint.path, reason: "it was trained with --seed \(seed), this run has --seed \(arguments.seed) "
                    + "(the data order would differ)")
        }
        let weights = try SafetensorsFile(url: checkpoint.appendingPathComponent(Self.optimizerFileName))
        do {
            try optimizer.restoreState(stepCount: step) { name in
                weights.contains(name) ? try weights.tensor(name, on: model.backend, as: .f32) : nil
            }
        } catch {
            throw TrainingError.checkpointMismatch(path: checkpoint.path, reason: "optimizer state: \(error)")
        }
        globalStep = step
        bestEvalLoss = state["best_metric"] as? Double
        bestCheckpoint = (state["best_model_checkpoint"] as? String).map { URL(fileURLWithPath: $0) }
    }
}
