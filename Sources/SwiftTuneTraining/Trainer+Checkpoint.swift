import Foundation
import SwiftTuneCheckpoint
import SwiftTuneRunFiles
import SwiftTuneTensor

extension Trainer {
    static let optimizerFileName = "optimizer.safetensors"

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
        let state = TrainerState(
            globalStep: globalStep, maxSteps: totalSteps, epoch: Double(globalStep) / Double(stepsPerEpoch),
            numTrainEpochs: arguments.numTrainEpochs, loggingSteps: arguments.loggingSteps, saveSteps: arguments.saveSteps,
            evalSteps: arguments.evalSteps ?? arguments.saveSteps, trainBatchSize: arguments.perDeviceTrainBatchSize,
            bestMetric: bestEvalLoss, bestModelCheckpoint: bestCheckpoint?.path,
            logHistory: log.earlierRecords + log.records, seed: arguments.seed)
        try state.write(into: folder)
    }

    /// Continues from `checkpoint` (a `checkpoint-N` folder of this kind of run): the step count and the optimizer
    /// state. The model's weights must already be loaded from it. With `onlyModel`, nothing else is restored.
    public func resume(from checkpoint: URL, onlyModel: Bool = false) throws {
        guard !onlyModel else { return }
        let state: TrainerState
        do { state = try TrainerState(contentsOf: checkpoint.appendingPathComponent(TrainerState.fileName)) } catch {
            throw TrainingError.checkpointMismatch(path: checkpoint.path, reason: "no readable \(TrainerState.fileName): \(error)")
        }
        let step = state.globalStep
        guard step <= totalSteps else {
            throw TrainingError.checkpointMismatch(
                path: checkpoint.path, reason: "it is at step \(step), past this run's \(totalSteps) steps")
        }
        if let seed = state.seed, seed != arguments.seed {
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
        bestEvalLoss = state.bestMetric
        bestCheckpoint = state.bestModelCheckpoint.map { URL(fileURLWithPath: $0) }
    }
}
