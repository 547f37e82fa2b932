import Foundation
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneRunFiles
import SwiftTuneTensor

/// Receives what a training run does, for progress display; every method has an empty default.
public protocol TrainingObserver: AnyObject {
    func trainingStarted(totalSteps: Int, runFolder: URL)
    /// After each optimizer step: the latest loss the trainer has read (read at logging steps only, so a step needs
    /// no host read of device values; nil before the first), the learning rate the step used and the tokens per
    /// second so far.
    func stepFinished(step: Int, totalSteps: Int, loss: Double?, learningRate: Double, tokensPerSecond: Double)
    /// Each `logging.jsonl` record (train, eval and the final summary).
    func logged(_ record: LogRecord)
    func checkpointSaved(_ folder: URL)
}

extension TrainingObserver {
    public func trainingStarted(totalSteps: Int, runFolder: URL) {}
    public func stepFinished(step: Int, totalSteps: Int, loss: Double?, learningRate: Double, tokensPerSecond: Double) {}
    public func logged(_ record: LogRecord) {}
    public func checkpointSaved(_ folder: URL) {}
}

/// How a run ended.
public struct TrainingSummary: Sendable {
    public var globalStep: Int
    public var totalSteps: Int
    /// Mean training loss over every step of this run.
    public var trainLoss: Double
    public var lastCheckpoint: URL?
    /// The checkpoint with the lowest eval loss, or the last one without validation data.
    public var bestCheckpoint: URL?
    /// True when a stop signal ended the run early (a checkpoint was saved at that step).
    public var stopped: Bool
    public var runtimeSeconds: Double
}

/// The training loop shared by every objective (`sft`, `pt`; `rlhf` next): a seeded data order over the objective's
/// items, micro-batches with gradient accumulation, global-norm clipping, AdamW with HF's schedules, ms-swift's
/// `logging.jsonl`, evaluation, atomic checkpoints and resume. What a step computes is the objective's
/// (`TrainingObjective`); a step's statistics stay on the device until a logging step reads them.
public final class Trainer {
    public let model: DecoderModel
    public let objective: any TrainingObjective
    public let arguments: TrainingArguments
    public let runFolder: URL
    public let totalSteps: Int
    public let stepsPerEpoch: Int
    public internal(set) var globalStep = 0

    let writeModelFiles: (URL) throws -> Void
    let optimizer: AdamW
    let schedule: LearningRateSchedule
    let log: TrainingLog
    let store: CheckpointStore
    var bestEvalLoss: Double?
    var bestCheckpoint: URL?
    var epochOrder: (epoch: Int, order: [Int])?

    /// - Parameters:
    ///   - model: the model with its trainable parameters marked (LoRA attached, or everything for full).
    ///   - objective: what to optimise, with its training and validation items.
    ///   - writeModelFiles: writes a checkpoint's model files (adapter or weights, configs, args.json) into a folder.
    public init(model: DecoderModel, objective: any TrainingObjective, arguments: TrainingArguments,
                fullFineTuning: Bool, runFolder: URL, writeModelFiles: @escaping (URL) throws -> Void) throws {
        try arguments.validate()
        guard objective.trainCount > 0 else {
            throw TrainingError.noTrainableTokens(dataset: "the training set (it is empty)")
        }
        self.model = model
        self.objective = objective
        self.arguments = arguments
        self.runFolder = runFolder
        self.writeModelFiles = writeModelFiles
        let microBatches = (objective.trainCount + arguments.perDeviceTrainBatchSize - 1) / arguments.perDeviceTrainBatchSize
        stepsPerEpoch = max(1, (microBatches + arguments.resolvedGradientAccumulationSteps - 1)
            / arguments.resolvedGradientAccumulationSteps)
        totalSteps = arguments.totalSteps(examples: objective.trainCount)
        model.gradientCheckpointing = arguments.gradientCheckpointing
        model.recomputeNumLayers = arguments.recomputeNumLayers
        optimizer = try AdamW(parameters: model.trainableParameters, hyperparameters: AdamW.Hyperparameters(
            beta1: arguments.adamBeta1, beta2: arguments.adamBeta2, epsilon: arguments.adamEpsilon,
            weightDecay: arguments.weightDecay))
        schedule = LearningRateSchedule(arguments: arguments, totalSteps: totalSteps, fullFineTuning: fullFineTuning)
        log = try TrainingLog(folder: runFolder)
        store = CheckpointStore(runFolder: runFolder)
        store.removeLeftovers()
    }

    // MARK: Data order

    /// Item indices of each micro-batch of optimizer step `step` (a fresh seeded shuffle each epoch).
    func microBatches(forStep step: Int) -> [[Int]] {
        let epoch = step / stepsPerEpoch, inEpoch = step % stepsPerEpoch
        if epochOrder?.epoch != epoch {
            var generator = SeededGenerator(seed: arguments.seed &+ UInt64(epoch) &* 0x9E37_79B9)
            epochOrder = (epoch, Array(0..<objective.trainCount).shuffled(using: &generator))
        }
        let order = epochOrder?.order ?? []
        let batch = arguments.perDeviceTrainBatchSize, accumulation = arguments.resolvedGradientAccumulationSteps
        let microCount = (order.count + batch - 1) / batch
        let first = inEpoch * accumulation, last = min(microCount, first + accumulation)
        return (first..<last).map { micro in Array(order[(micro * batch)..<min(order.count, (micro + 1) * batch)]) }
    }

    // MARK: The loop

    /// Trains until `totalSteps` (or a stop signal), logging, evaluating and saving on ms-swift's schedule.
    public func train(stop: StopSignal? = nil, observer: (any TrainingObserver)? = nil) throws -> TrainingSummary {
        let start = Date()
        let startStep = globalStep
        observer?.trainingStarted(totalSteps: totalSteps, runFolder: runFolder)
        model.backend.resetPeakMemory()
        var pending: [TrainingStep.Result] = []  // steps whose statistics are still on the device
        var stepLosses: [Double] = []
        var lastLoss: Double?
        var tokensSeen = 0
        var lastSaved: URL?
        // A stop requested before the first step (during data preparation) is honoured here: nothing new to save.
        var stopped = stop?.isRequested ?? false
        if stopped { stop?.acknowledge() }
        while !stopped && globalStep < totalSteps {
            let stepStart = Date()
            let learningRate = schedule.learningRate(afterSteps: globalStep)
            let indices = microBatches(forStep: globalStep)
            let result = try TrainingStep.run(model: model, optimizer: optimizer, learningRate: learningRate,
                                              maxGradNorm: arguments.maxGradNorm) {
                try objective.accumulateGradients(model: model, microBatches: indices, step: globalStep,
                                                  runSeed: arguments.seed)
            }
            globalStep += 1
            tokensSeen += objective.tokenCount(train: indices.flatMap { $0 })
            pending.append(result)
            let elapsed = Date().timeIntervalSince(start)
            if globalStep == 1 || globalStep % arguments.loggingSteps == 0 || globalStep == totalSteps {
                // The logging step: the interval's statistics come to the host now, in one pass.
                let steps = try pending.map { try model.backend.floats($0.statistics) }
                stepLosses += steps.map(objective.stepLoss)
                lastLoss = stepLosses.last
                var record = LogRecord()
                for (key, value) in objective.trainingMetrics(steps: steps) { record.set(key, value) }
                record.set("grad_norm", try pending.last?.gradNorm() ?? 0)
                record.set("learning_rate", schedule.learningRate(afterSteps: globalStep))
                try append(progressFields(to: record, elapsed: elapsed, stepsDone: globalStep - startStep), observer)
                pending = []
            }
            observer?.stepFinished(step: globalStep, totalSteps: totalSteps, loss: lastLoss, learningRate: learningRate,
                                   tokensPerSecond: Double(tokensSeen) / max(elapsed, 1e-9))
            let evalEvery = arguments.evalSteps ?? arguments.saveSteps
            if objective.validationCount > 0 && (globalStep % evalEvery == 0 || globalStep == totalSteps) {
                try evaluate(elapsed: Date().timeIntervalSince(start), stepsDone: globalStep - startStep, observer)
            }
            stop?.stepFinished(seconds: Date().timeIntervalSince(stepStart))
            stopped = stop?.isRequested ?? false
            if stopped { stop?.acknowledge() }  // the safe point: the grace timer stops, the checkpoint is saved
            if globalStep % arguments.saveSteps == 0 || globalStep == totalSteps || stopped {
                lastSaved = try save(observer)
            }
            if stopped { break }
        }
        stepLosses += try pending.map { objective.stepLoss(try model.backend.floats($0.statistics)) }
        let runtime = Date().timeIntervalSince(start)
        let steps = max(globalStep - startStep, 1)
        let trainLoss = stepLosses.reduce(0, +) / Double(steps)
        var summary = LogRecord()
        summary.set("train_runtime", runtime)
        summary.set("train_samples_per_second", Double(steps * arguments.perDeviceTrainBatchSize
            * arguments.resolvedGradientAccumulationSteps) / max(runtime, 1e-9))
        summary.set("train_steps_per_second", Double(steps) / max(runtime, 1e-9))
        summary.set("train_tokens_per_second", Double(tokensSeen) / max(runtime, 1e-9))
        summary.set("train_loss", trainLoss)
        try append(progressFields(to: summary, elapsed: runtime, stepsDone: steps), observer)
        if let lastSaved { try writeTrainerState(into: lastSaved) }
        return TrainingSummary(globalStep: globalStep, totalSteps: totalSteps, trainLoss: trainLoss,
                               lastCheckpoint: lastSaved ?? store.checkpoints().last?.url,
                               bestCheckpoint: bestCheckpoint ?? lastSaved, stopped: stopped, runtimeSeconds: runtime)
    }

    /// The objective's validation metrics (no gradients); appends an eval record. Returns `eval_loss`.
    @discardableResult
    public func evaluate(elapsed: Double = 0, stepsDone: Int = 0, _ observer: (any TrainingObserver)? = nil) throws -> Double {
        let start = Date()
        var sum: [Double] = []  // in Double, as the statistics of many batches add up
        var batches = 0
        for first in stride(from: 0, to: objective.validationCount, by: arguments.perDeviceEvalBatchSize) {
            let indices = Array(first..<min(objective.validationCount, first + arguments.perDeviceEvalBatchSize))
            let values = try model.backend.floats(objective.evaluate(model: model, validation: indices))
            if sum.isEmpty { sum = Array(repeating: 0, count: values.count) }
            for (i, value) in values.enumerated() { sum[i] += Double(value) }
            batches += 1
        }
        let runtime = Date().timeIntervalSince(start)
        let metrics = objective.evaluationMetrics(sum)
        var record = LogRecord()
        for (key, value) in metrics { record.set(key, value) }
        record.set("eval_runtime", runtime)
        record.set("eval_samples_per_second", Double(objective.validationCount) / max(runtime, 1e-9))
        record.set("eval_steps_per_second", Double(batches) / max(runtime, 1e-9))
        try append(progressFields(to: record, elapsed: elapsed, stepsDone: stepsDone), observer)
        let loss = metrics.first?.value ?? 0
        if bestEvalLoss.map({ loss < $0 }) ?? true {
            bestEvalLoss = loss
            bestCheckpoint = store.folder(step: globalStep)  // saved now or at the next save
        }
        return loss
    }
    // MARK: Records

    func progressFields(to record: LogRecord, elapsed: Double, stepsDone: Int) -> LogRecord {
        var record = record
        record.set("memory(GiB)", model.backend.peakMemoryBytes.map(Self.gib) ?? Self.peakMemoryGiB())
        let perStep = stepsDone > 0 ? elapsed / Double(stepsDone) : 0
        record.set("train_speed(s/it)", perStep)
        record.set("epoch", Double(globalStep) / Double(stepsPerEpoch))
        record.set("global_step/max_steps", "\(globalStep)/\(totalSteps)")
        record.set("percentage", String(format: "%.2f%%", 100 * Double(globalStep) / Double(max(totalSteps, 1))))
        record.set("elapsed_time", LogRecord.duration(elapsed))
        record.set("remaining_time", LogRecord.duration(perStep * Double(totalSteps - globalStep)))
        return record
    }

    func append(_ record: LogRecord, _ observer: (any TrainingObserver)?) throws {
        try log.append(record)
        observer?.logged(record)
    }

    /// Peak resident memory of this process (the CPU backend, which reports no device peak), in GiB.
    static func peakMemoryGiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return gib(Int(usage.ru_maxrss) * 1024)
    }

    /// `bytes` in GiB, rounded to hundredths as ms-swift logs `memory(GiB)`.
    static func gib(_ bytes: Int) -> Double { (Double(bytes) / 1_073_741_824 * 100).rounded() / 100 }
}
