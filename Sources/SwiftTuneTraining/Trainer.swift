import Foundation
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneNN
import SwiftTuneRunFiles
import SwiftTuneTensor

/// Receives what a training run does, for progress display; every method has an empty default.
public protocol TrainingObserver: AnyObject {
    func trainingStarted(totalSteps: Int, runFolder: URL)
    /// After each optimizer step: the step's mean loss, the learning rate it used and the tokens per second so far.
    func stepFinished(step: Int, totalSteps: Int, loss: Double, learningRate: Double, tokensPerSecond: Double)
    /// Each `logging.jsonl` record (train, eval and the final summary).
    func logged(_ record: LogRecord)
    func checkpointSaved(_ folder: URL)
}

extension TrainingObserver {
    public func trainingStarted(totalSteps: Int, runFolder: URL) {}
    public func stepFinished(step: Int, totalSteps: Int, loss: Double, learningRate: Double, tokensPerSecond: Double) {}
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

/// The training loop of `sft` and `pt`: seeded data order, micro-batches packed without padding, gradient
/// accumulation normalised by the scored tokens of the whole accumulated batch (as transformers ≥ 4.46 does),
/// global-norm clipping, AdamW with HF's schedules, ms-swift's `logging.jsonl`, atomic checkpoints, resume.
public final class Trainer {
    public let model: DecoderModel
    public let arguments: TrainingArguments
    public let runFolder: URL
    public let totalSteps: Int
    public let stepsPerEpoch: Int
    public internal(set) var globalStep = 0

    let train: [TrainingExample]
    let validation: [TrainingExample]
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
    ///   - writeModelFiles: writes a checkpoint's model files (adapter or weights, configs, args.json) into a folder.
    public init(model: DecoderModel, train: [TrainingExample], validation: [TrainingExample] = [],
                arguments: TrainingArguments, fullFineTuning: Bool, runFolder: URL,
                writeModelFiles: @escaping (URL) throws -> Void) throws {
        try arguments.validate()
        guard !train.isEmpty else { throw TrainingError.noTrainableTokens(dataset: "the training set (it is empty)") }
        let scored = try train.prefix(4096).reduce(0) { try $0 + TokenBatch(examples: [$1]).scoredTokenCount }
        guard scored > 0 else { throw TrainingError.noTrainableTokens(dataset: "the training set") }
        self.model = model
        self.train = train
        self.validation = validation
        self.arguments = arguments
        self.runFolder = runFolder
        self.writeModelFiles = writeModelFiles
        let microBatches = (train.count + arguments.perDeviceTrainBatchSize - 1) / arguments.perDeviceTrainBatchSize
        stepsPerEpoch = max(1, (microBatches + arguments.resolvedGradientAccumulationSteps - 1)
            / arguments.resolvedGradientAccumulationSteps)
        totalSteps = arguments.totalSteps(examples: train.count)
        model.gradientCheckpointing = arguments.gradientCheckpointing
        optimizer = try AdamW(parameters: model.trainableParameters, hyperparameters: AdamW.Hyperparameters(
            beta1: arguments.adamBeta1, beta2: arguments.adamBeta2, epsilon: arguments.adamEpsilon,
            weightDecay: arguments.weightDecay))
        let kind: LearningRateSchedule.Kind = switch arguments.lrSchedulerType {
        case .cosine: .cosine
        case .linear: .linear
        case .constant: .constant  // HF's get_scheduler("constant") ignores warmup, as ms-swift passes it
        }
        schedule = LearningRateSchedule(
            kind: kind, baseLearningRate: arguments.resolvedLearningRate(fullFineTuning: fullFineTuning),
            warmupSteps: arguments.resolvedWarmupSteps(totalSteps: totalSteps), totalSteps: totalSteps)
        log = try TrainingLog(folder: runFolder)
        store = CheckpointStore(runFolder: runFolder)
        store.removeLeftovers()
    }

    // MARK: Data order

    /// Example indices of micro-batch `micro` of optimizer step `step` (a fresh seeded shuffle each epoch).
    func microBatches(forStep step: Int) -> [[Int]] {
        let epoch = step / stepsPerEpoch, inEpoch = step % stepsPerEpoch
        if epochOrder?.epoch != epoch {
            var generator = SeededGenerator(seed: arguments.seed &+ UInt64(epoch) &* 0x9E37_79B9)
            epochOrder = (epoch, Array(train.indices).shuffled(using: &generator))
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
        var interval = (loss: 0.0, steps: 0, correct: 0.0, scored: 0.0)
        var runLoss = 0.0
        var tokensSeen = 0
        var lastSaved: URL?
        var stopped = false
        var lastNorm = 0.0
        while globalStep < totalSteps {
            let learningRate = schedule.learningRate(afterSteps: globalStep)
            let result = try optimizerStep()
            lastNorm = result.gradNorm
            try optimizer.step(learningRate: learningRate)
            try optimizer.zeroGradients()
            globalStep += 1
            tokensSeen += result.tokens
            runLoss += result.loss
            interval.loss += result.loss
            interval.steps += 1
            interval.correct += result.correct
            interval.scored += result.scored
            let elapsed = Date().timeIntervalSince(start)
            observer?.stepFinished(step: globalStep, totalSteps: totalSteps, loss: result.loss, learningRate: learningRate,
                                   tokensPerSecond: Double(tokensSeen) / max(elapsed, 1e-9))
            if globalStep == 1 || globalStep % arguments.loggingSteps == 0 || globalStep == totalSteps {
                var record = LogRecord()
                record.set("loss", interval.loss / Double(interval.steps))
                record.set("token_acc", interval.scored > 0 ? interval.correct / interval.scored : 0)
                record.set("grad_norm", lastNorm)
                record.set("learning_rate", schedule.learningRate(afterSteps: globalStep))
                try append(progressFields(to: record, elapsed: elapsed, stepsDone: globalStep - startStep), observer)
                interval = (0, 0, 0, 0)
            }
            let evalEvery = arguments.evalSteps ?? arguments.saveSteps
            if !validation.isEmpty && (globalStep % evalEvery == 0 || globalStep == totalSteps) {
                try evaluate(elapsed: Date().timeIntervalSince(start), stepsDone: globalStep - startStep, observer)
            }
            stopped = stop?.isRequested ?? false
            if globalStep % arguments.saveSteps == 0 || globalStep == totalSteps || stopped {
                lastSaved = try save(observer)
            }
            if stopped { break }
        }
        let runtime = Date().timeIntervalSince(start)
        let steps = max(globalStep - startStep, 1)
        var summary = LogRecord()
        summary.set("train_runtime", runtime)
        summary.set("train_samples_per_second", Double(steps * arguments.perDeviceTrainBatchSize
            * arguments.resolvedGradientAccumulationSteps) / max(runtime, 1e-9))
        summary.set("train_steps_per_second", Double(steps) / max(runtime, 1e-9))
        summary.set("train_tokens_per_second", Double(tokensSeen) / max(runtime, 1e-9))
        summary.set("train_loss", runLoss / Double(steps))
        try append(progressFields(to: summary, elapsed: runtime, stepsDone: steps), observer)
        if let lastSaved { try writeTrainerState(into: lastSaved) }
        return TrainingSummary(globalStep: globalStep, totalSteps: totalSteps, trainLoss: runLoss / Double(steps),
                               lastCheckpoint: lastSaved ?? store.checkpoints().last?.url,
                               bestCheckpoint: bestCheckpoint ?? lastSaved, stopped: stopped, runtimeSeconds: runtime)
    }

    /// Forward and backward over the step's micro-batches; returns the step's loss, accuracy counts and the
    /// pre-clip gradient norm.
    func optimizerStep() throws -> (loss: Double, correct: Double, scored: Double, tokens: Int, gradNorm: Double) {
        let batches = try microBatches(forStep: globalStep).map { indices in
            try TokenBatch(examples: indices.map { train[$0] })
        }
        let scored = batches.reduce(0) { $0 + $1.scoredTokenCount }
        let scale = 1 / Float(max(scored, 1))
        var sums = (loss: 0.0, count: 0.0, correct: 0.0)
        for (micro, batch) in batches.enumerated() {
            try batch.validate(vocabularySize: model.config.vocabSize)
            let seed = DropoutMask.stepSeed(run: arguments.seed, step: globalStep, microBatch: micro)
            let output = try model.lossAndGradients(batch.upload(to: model.backend), gradientScale: scale, dropoutSeed: seed)
            let stats = try model.backend.floats(output.stats)
            sums.loss += Double(stats[0])
            sums.count += Double(stats[1])
            sums.correct += Double(stats[2])
        }
        let parameters = model.trainableParameters
        let norm = arguments.maxGradNorm > 0
            ? try GradientClipping.clip(parameters, maxNorm: arguments.maxGradNorm)
            : try GradientClipping.globalNorm(of: parameters)
        return (sums.count > 0 ? sums.loss / sums.count : 0, sums.correct, sums.count,
                batches.reduce(0) { $0 + $1.count }, norm)
    }

    /// The loss and token accuracy on the validation set (no gradients); appends an eval record.
    @discardableResult
    public func evaluate(elapsed: Double = 0, stepsDone: Int = 0, _ observer: (any TrainingObserver)? = nil) throws -> Double {
        let start = Date()
        var sums = (loss: 0.0, count: 0.0, correct: 0.0)
        var batches = 0
        for first in stride(from: 0, to: validation.count, by: arguments.perDeviceEvalBatchSize) {
            let examples = Array(validation[first..<min(validation.count, first + arguments.perDeviceEvalBatchSize)])
            let batch = try TokenBatch(examples: examples)
            try batch.validate(vocabularySize: model.config.vocabSize)
            let stats = try model.backend.floats(model.loss(batch.upload(to: model.backend)).stats)
            sums.loss += Double(stats[0])
            sums.count += Double(stats[1])
            sums.correct += Double(stats[2])
            batches += 1
        }
        let runtime = Date().timeIntervalSince(start)
        let loss = sums.count > 0 ? sums.loss / sums.count : 0
        var record = LogRecord()
        record.set("eval_loss", loss)
        record.set("eval_token_acc", sums.count > 0 ? sums.correct / sums.count : 0)
        record.set("eval_runtime", runtime)
        record.set("eval_samples_per_second", Double(validation.count) / max(runtime, 1e-9))
        record.set("eval_steps_per_second", Double(batches) / max(runtime, 1e-9))
        try append(progressFields(to: record, elapsed: elapsed, stepsDone: stepsDone), observer)
        if bestEvalLoss.map({ loss < $0 }) ?? true {
            bestEvalLoss = loss
            bestCheckpoint = store.folder(step: globalStep)  // saved now or at the next save
        }
        return loss
    }

    // MARK: Records

    func progressFields(to record: LogRecord, elapsed: Double, stepsDone: Int) -> LogRecord {
        var record = record
        record.set("memory(GiB)", Self.peakMemoryGiB())
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

    /// Peak resident memory of this process (CPU backend), in GiB.
    static func peakMemoryGiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return (Double(usage.ru_maxrss) * 1024 / 1_073_741_824 * 100).rounded() / 100
    }
}
