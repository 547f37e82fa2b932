import Foundation
import SwiftTuneJSON

/// HF Trainer's `trainer_state.json` in a `checkpoint-N` folder: the step, the schedule, the best checkpoint and
/// the log history, which `--resume_from_checkpoint` reads back. Written with sorted keys and two-space indents
/// (`json.dumps(indent=2, sort_keys=True)`).
public struct TrainerState: Sendable, Equatable {
    public static let fileName = "trainer_state.json"

    /// Optimizer steps taken.
    public var globalStep: Int
    public var maxSteps: Int
    /// Steps taken over steps per epoch.
    public var epoch: Double
    public var numTrainEpochs: Double
    public var loggingSteps: Int
    public var saveSteps: Int
    public var evalSteps: Int
    public var trainBatchSize: Int
    /// The lowest eval loss so far, if the run evaluated.
    public var bestMetric: Double?
    /// The checkpoint folder that had it.
    public var bestModelCheckpoint: String?
    /// Every `logging.jsonl` record with its `step`, as HF's `log_history`.
    public var logHistory: [LogRecord]
    /// `--seed` (data order and dropout); a resumed run must use the same.
    public var seed: UInt64?

    public init(globalStep: Int, maxSteps: Int, epoch: Double, numTrainEpochs: Double, loggingSteps: Int,
                saveSteps: Int, evalSteps: Int, trainBatchSize: Int, bestMetric: Double? = nil,
                bestModelCheckpoint: String? = nil, logHistory: [LogRecord] = [], seed: UInt64? = nil) {
        self.globalStep = globalStep
        self.maxSteps = maxSteps
        self.epoch = epoch
        self.numTrainEpochs = numTrainEpochs
        self.loggingSteps = loggingSteps
        self.saveSteps = saveSteps
        self.evalSteps = evalSteps
        self.trainBatchSize = trainBatchSize
        self.bestMetric = bestMetric
        self.bestModelCheckpoint = bestModelCheckpoint
        self.logHistory = logHistory
        self.seed = seed
    }

    /// Reads a `trainer_state.json` (ours or HF Trainer's). Only `global_step` is required.
    public init(contentsOf url: URL) throws(RunFileError) {
        let object = try RunFileObject(contentsOf: url, hint: "a checkpoint-N folder of swift-tune sft / HF Trainer has one")
        globalStep = try object.int("global_step", required: true) ?? 0
        maxSteps = try object.int("max_steps") ?? 0
        epoch = try object.double("epoch") ?? 0
        numTrainEpochs = try object.double("num_train_epochs") ?? 0
        loggingSteps = try object.int("logging_steps") ?? 0
        saveSteps = try object.int("save_steps") ?? 0
        evalSteps = try object.int("eval_steps") ?? 0
        trainBatchSize = try object.int("train_batch_size") ?? 0
        bestMetric = try object.double("best_metric")
        bestModelCheckpoint = try object.string("best_model_checkpoint")
        seed = try object.unsigned("seed")
        var history: [LogRecord] = []
        for (index, entry) in (try object.array("log_history") ?? []).enumerated() {
            history.append(try LogRecord(json: entry, path: "\(url.path): log_history[\(index)]"))
        }
        logHistory = history
    }

    /// The file's JSON: every key, `log_history` entries with their `step` first-class (HF's layout).
    public var jsonValue: JSONValue {
        func number(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
        func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
        let history: [JSONValue] = logHistory.map { record in
            var members = record.jsonValue.objectMembers ?? []
            if let step = record.step, !members.contains(where: { $0.key == "step" }) {
                members.append(JSONMember(key: "step", value: int(step)))
            }
            return .object(members)
        }
        return .object([
            JSONMember(key: "best_metric", value: bestMetric.map(number) ?? .null),
            JSONMember(key: "best_model_checkpoint", value: bestModelCheckpoint.map(JSONValue.string) ?? .null),
            JSONMember(key: "epoch", value: number(epoch)),
            JSONMember(key: "eval_steps", value: int(evalSteps)),
            JSONMember(key: "global_step", value: int(globalStep)),
            JSONMember(key: "is_local_process_zero", value: true),
            JSONMember(key: "is_world_process_zero", value: true),
            JSONMember(key: "log_history", value: .array(history)),
            JSONMember(key: "logging_steps", value: int(loggingSteps)),
            JSONMember(key: "max_steps", value: int(maxSteps)),
            JSONMember(key: "num_train_epochs", value: number(numTrainEpochs)),
            JSONMember(key: "save_steps", value: int(saveSteps)),
            JSONMember(key: "seed", value: seed.map { .number(JSONNumber($0)) } ?? .null),
            JSONMember(key: "train_batch_size", value: int(trainBatchSize)),
        ])
    }

    /// Writes `folder/trainer_state.json` atomically.
    public func write(into folder: URL) throws {
        let text = jsonValue.pythonJSONString(indent: 2, sortKeys: true) + "\n"
        try Data(text.utf8).write(to: folder.appendingPathComponent(Self.fileName), options: .atomic)
    }
}
