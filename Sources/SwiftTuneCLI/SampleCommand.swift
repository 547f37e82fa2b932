import ArgumentParser
import Foundation
import SwiftTuneData
import SwiftTuneGeneration
import SwiftTuneTraining

/// `swift-tune sample`: ms-swift's `swift sample` with the vanilla sampler — several sampled answers per dataset row,
/// written as complete `messages` rows to `sample_output/TIME.jsonl`.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Sample several answers per dataset row and write them as messages rows (ms-swift's swift sample).",
        discussion: """
            Example: swift-tune sample --model M --dataset prompts.jsonl#5 --num_return_sequences 5 --max_new_tokens 256
            Writes rows × num_return_sequences lines to --output_dir/--output_file (sample_output/YYYYMMDD-HHMMSS.jsonl): \
            {"messages": [...the prompt..., {"role": "assistant", "content": ANSWER}], "labels", "row", "sequence", \
            "finished"}. Sampling flags are infer's; --temperature defaults to 1 (as ms-swift's sampler). Only \
            --sampler_type sample is here: mcts, distill and PRM/ORM filtering are not supported yet.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var infer: InferOptions
    @Option(name: flag("dataset"), parsing: .upToNextOption, help: "The prompts: any dataset sft reads (#N to take N rows); a final assistant turn becomes labels.")
    var dataset: [String] = []
    @Option(name: flag("num_return_sequences"), help: "Answers sampled per row (default 64, as ms-swift).")
    var numReturnSequences = 64
    @Option(name: flag("sampler_type"), help: "sample (the only sampler here; mcts and distill are not supported yet).")
    var samplerType = "sample"
    @Option(name: flag("sampler_engine"), help: "Accepted for ms-swift's command lines: pt, vllm and lmdeploy all mean swift-tune's own engine.")
    var samplerEngine: String?
    @Option(name: flag("output_dir"), help: "Folder of the output file (default sample_output).")
    var outputDir = "sample_output"
    @Option(name: flag("output_file"), help: "File name inside --output_dir (default YYYYMMDD-HHMMSS.jsonl).")
    var outputFile: String?
    @Option(name: flag("orm_model"), help: "Not supported yet (outcome reward filtering).")
    var ormModel: String?
    @Option(name: flag("prm_model"), help: "Not supported yet (process reward filtering).")
    var prmModel: String?

    func validate() throws {
        guard !dataset.isEmpty else { throw ValidationError("--dataset: give the prompts to sample answers for (e.g. prompts.jsonl#5)") }
        guard numReturnSequences >= 1 else {
            throw ValidationError("--num_return_sequences \(numReturnSequences): expected a positive integer")
        }
        guard samplerType == "sample" else {
            throw ValidationError("--sampler_type \(samplerType): only sample is supported (mcts and distill are not available yet)")
        }
        if let samplerEngine, !["pt", "vllm", "lmdeploy", "sglang"].contains(samplerEngine) {
            throw ValidationError("--sampler_engine \(samplerEngine): expected pt, vllm, lmdeploy or sglang (each means swift-tune's own engine)")
        }
        if ormModel != nil || prmModel != nil {
            throw ValidationError("--\(ormModel != nil ? "orm_model" : "prm_model"): reward filtering of samples is not available yet "
                + "(hint: sample, then score the rows with infer --adapters RM_CKPT --val_dataset FILE)")
        }
        if !infer.valDataset.isEmpty || infer.loadDataArgs == true {
            throw ValidationError("sample reads its prompts from --dataset (--val_dataset and --load_data_args are infer's)")
        }
        if infer.metric != nil { throw ValidationError("--metric is infer's; sample writes answers without scoring them") }
    }

    func run() throws {
        var flags = infer
        flags.temperature = flags.temperature ?? 1
        let inference = try Inference.load(try flags.inferenceOptions(model: model), backend: try model.backend()) { note($0) }
        if let samplerEngine, samplerEngine != "pt" { note("--sampler_engine \(samplerEngine): sampling on swift-tune's own engine") }
        let rows = try BatchInference.rows(try dataset.map { try DatasetSpec.parse($0) },
                                           options: infer.datasetOptions(run: inference.runArguments))
        note("rows: \(rows.count) from \(dataset.joined(separator: " ")), \(numReturnSequences) answers each")
        let bar = ProgressBar(label: "Sample", total: rows.count * numReturnSequences)
        let records = try Sampling.run(rows, inference: inference, count: numReturnSequences) { bar.update($0) }
        bar.finish()
        let url = URL(fileURLWithPath: outputDir).appendingPathComponent(outputFile ?? Self.timestampName())
        try Sampling.write(records, to: url)
        print("sampled \(records.count) answers (\(records.filter(\.finished).count) ended on a stop token) to \(url.path)")
    }

    static func timestampName(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: now) + ".jsonl"
    }

    func note(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }
}
