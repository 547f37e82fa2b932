import Foundation
import Testing
import SwiftTuneJSON
@testable import SwiftTuneRunFiles

@Suite struct TrainerStateTests {
    static func record(step: Int, loss: Double) -> LogRecord {
        var record = LogRecord()
        record.set("loss", loss)
        record.set("global_step/max_steps", "\(step)/10")
        record.set("elapsed_time", "3s")
        return record
    }

    @Test func stateWritesSortedWithStepsInTheHistoryAndReadsBack() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let state = TrainerState(globalStep: 4, maxSteps: 10, epoch: 0.5, numTrainEpochs: 3, loggingSteps: 2,
                                 saveSteps: 4, evalSteps: 4, trainBatchSize: 1, bestMetric: 1.25,
                                 bestModelCheckpoint: "/runs/v0/checkpoint-4",
                                 logHistory: [Self.record(step: 2, loss: 2.5), Self.record(step: 4, loss: 1.5)], seed: 7)
        try state.write(into: folder)
        let text = try String(contentsOf: folder.appendingPathComponent("trainer_state.json"), encoding: .utf8)
        #expect(text.hasPrefix("{\n  \"best_metric\": 1.25,\n  \"best_model_checkpoint\": \"/runs/v0/checkpoint-4\",\n"))
        #expect(text.contains("    {\n      \"elapsed_time\": \"3s\",\n      \"global_step/max_steps\": \"2/10\",\n"
            + "      \"loss\": 2.5,\n      \"step\": 2\n    },"), "\(text)")
        var read = try TrainerState(contentsOf: folder.appendingPathComponent("trainer_state.json"))
        #expect(read.globalStep == 4 && read.seed == 7 && read.bestMetric == 1.25 && read.epoch == 0.5)
        #expect(read.logHistory.map(\.step) == [2, 4])
        // The history reads back with keys sorted and `step` a key of its own; else it is the records written.
        for (readRecord, written) in zip(read.logHistory, state.logHistory) {
            #expect(readRecord.entries.map(\.key) == written.entries.map(\.key).sorted() + ["step"])
            for (key, value) in written.entries { #expect(readRecord[key] == value) }
        }
        read.logHistory = state.logHistory
        #expect(read == state)
    }

    @Test func hfTrainerStateReadsAndBadTypesAreNamed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("trainer_state.json")
        try Data("""
            {"best_global_step": null, "best_metric": null, "best_model_checkpoint": null, "epoch": 1.0,
             "eval_steps": 500, "global_step": 12, "is_hyper_param_search": false, "log_history": [
             {"epoch": 0.5, "grad_norm": 1.5, "learning_rate": 5e-05, "loss": 2.1, "step": 6}],
             "stateful_callbacks": {"TrainerControl": {"args": {}}}, "total_flos": 12345.0, "train_batch_size": 8}
            """.utf8).write(to: url)
        let state = try TrainerState(contentsOf: url)
        #expect(state.globalStep == 12 && state.bestMetric == nil && state.seed == nil && state.trainBatchSize == 8)
        #expect(state.logHistory.first?.number("learning_rate") == 5e-05 && state.logHistory.first?["step"] == .integer(6))
        try Data(#"{"global_step": "12"}"#.utf8).write(to: url)
        #expect(throws: RunFileError.wrongType(path: url.path, key: "global_step", expected: "an integer", got: "a string \"12\"")) {
            try TrainerState(contentsOf: url)
        }
        try Data(#"{"epoch": 1.0}"#.utf8).write(to: url)
        #expect(throws: RunFileError.missingKey(path: url.path, key: "global_step", expected: "an integer")) {
            try TrainerState(contentsOf: url)
        }
    }

    @Test func logLinesReadBackAsRecords() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var record = Self.record(step: 1, loss: 1.606962921234)
        record.set("grad_norm", Double.nan)
        record.set("count", 3)
        let log = try TrainingLog(folder: folder)
        try log.append(record)
        try log.append(Self.record(step: 2, loss: 2))
        let read = try TrainingLog.read(folder: folder)
        #expect(read.map(\.json) == [record.json, Self.record(step: 2, loss: 2).json])
        #expect(read[0]["count"] == .integer(3) && read[0].number("grad_norm")?.isNaN == true && read[1].step == 2)
        #expect(try TrainingLog(folder: folder).earlierRecords.count == 2)
        let url = folder.appendingPathComponent("logging.jsonl")
        try Data("{\"loss\": 1.0}\n{\"loss\": [1]}\n".utf8).write(to: url)
        #expect(throws: RunFileError.wrongType(path: url.path + ":2", key: "loss", expected: "a number, a string or null",
                                               got: "an array of 1")) {
            try TrainingLog.read(folder: folder)
        }
        #expect(try TrainingLog(folder: folder).earlierRecords.count == 1, "a line that is not a record is skipped on resume")
    }

    @Test func lastAndBestCheckpoints() throws {
        let run = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: run) }
        let store = CheckpointStore(runFolder: run)
        #expect(store.last == nil && store.best() == nil)
        for step in [5, 10, 15] {
            try store.save(step: step) { folder in
                try TrainerState(globalStep: step, maxSteps: 15, epoch: 1, numTrainEpochs: 1, loggingSteps: 5, saveSteps: 5,
                                 evalSteps: 5, trainBatchSize: 1, bestMetric: 0.5,
                                 bestModelCheckpoint: store.folder(step: 10).path).write(into: folder)
            }
        }
        #expect(store.last?.lastPathComponent == "checkpoint-15" && store.best()?.lastPathComponent == "checkpoint-10")
        try FileManager.default.removeItem(at: store.folder(step: 10))
        #expect(store.best()?.lastPathComponent == "checkpoint-15", "a best checkpoint rotated away falls back to the last")
        #expect(CheckpointStore.step(of: "checkpoint-12") == 12 && CheckpointStore.step(of: "checkpoint-x") == nil)
        #expect(RunFolder.enclosing(store.folder(step: 5)).path == run.path && RunFolder.enclosing(run).path == run.path)
    }
}
