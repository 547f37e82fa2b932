import ArgumentParser
import Foundation
import SwiftTuneEngine
import SwiftTuneEval
import SwiftTuneGeneration

/// `swift-tune eval`: benchmarks and custom sets, on a model in this process or an OpenAI-compatible endpoint, with
/// ms-swift's flags (`--eval_backend Native`).
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model on benchmarks (gsm8k, mmlu, arc, ceval) and custom sets (general_qa, general_mcq).",
        discussion: """
            Example: swift-tune eval --model Qwen/Qwen2.5-0.5B-Instruct --eval_dataset gsm8k mmlu --dataset_dir data \
            --eval_limit 20
            Against a server: swift-tune eval --eval_url http://127.0.0.1:8000/v1 --eval_dataset my_qa.jsonl --eval_num_proc 8
            A benchmark name reads DIR/NAME under --dataset_dir (or NAME=PATH, or local_path in --dataset_args); any \
            .jsonl/.csv/.json file or folder in a known layout can be given by path. Prints the score table and writes \
            EVAL_OUTPUT_DIR/TIME/report.json and predictions/DATASET.jsonl (prompt, answer, extracted, gold, correct).
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var hub: HubFlags

    @Option(name: flag("adapters"), help: "A LoRA checkpoint folder (its run's args.json may name --model).")
    var adapters: String?
    @Option(name: flag("eval_url"), help: "An OpenAI-compatible API base (http://HOST:PORT/v1) to evaluate instead of a local model; --model then names the served model (default: the first of /v1/models).")
    var evalURL: String?
    @Option(name: flag("api_key"), help: "Bearer key for --eval_url.")
    var apiKey: String?
    @Option(name: flag("eval_dataset"), parsing: .upToNextOption,
            help: "Benchmarks (\(Benchmark.names.joined(separator: ", "))), KIND=PATH, or paths of custom sets.")
    var evalDataset: [String] = []
    @Option(name: flag("dataset_dir"), help: "The folder benchmark names resolve in: DIR/gsm8k/test.jsonl, DIR/mmlu/*.csv, …")
    var datasetDir: String?
    @Option(name: flag("dataset_args"), help: "JSON per dataset: {\"gsm8k\": {\"local_path\": …, \"few_shot_num\": 4, \"prompt_template\": \"…{question}…\"}}.")
    var datasetArgs: String?
    @Option(name: flag("eval_limit"), help: "Samples per subset at most (default: all).")
    var evalLimit: Int?
    @Option(name: flag("eval_num_proc"), help: "Requests in flight at once against --eval_url; with a local model, the batch size unless --max_batch_size is given (default 8).")
    var evalNumProc = 8
    @Option(name: flag("eval_backend"), help: "Native (the only backend; EvalScope's others are not built in).")
    var evalBackend = "Native"
    @Option(name: flag("eval_output_dir"), help: "Where each run's folder is written (default eval_output).")
    var evalOutputDir = "eval_output"
    @Option(name: flag("eval_mcq_scoring"), help: "Multiple choice: generation, loglikelihood or both (default both with a local model, generation with --eval_url).")
    var mcqScoring: String?
    @Option(name: flag("few_shot_num"), help: "Worked examples before each question: GSM8K's from its train file, multiple choice's from the subject's _dev file (default 0).")
    var fewShotNum = 0
    @Option(name: flag("strict"), help: "A malformed row is an error instead of being skipped (default false).")
    var strict = false
    @Option(name: flag("max_new_tokens"), help: "New tokens per answer at most (default 512).")
    var maxNewTokens = 512
    @Option(name: flag("temperature"), help: "0 is greedy (default 0).")
    var temperature = 0.0
    @Option(name: flag("max_batch_size"), help: "Sequences decoded together by the local engine (default --eval_num_proc).")
    var maxBatchSize: Int?
    @Option(name: flag("max_model_len"), help: "Tokens per sequence, prompt and answer (default max_position_embeddings).")
    var maxModelLen: Int?

    func validate() throws {
        guard evalBackend.lowercased() == "native" else {
            throw ValidationError("--eval_backend \(evalBackend): expected Native (OpenCompass and VLMEvalKit are not built in)")
        }
        guard !evalDataset.isEmpty else {
            throw ValidationError("--eval_dataset: expected one or more of \(Benchmark.names.joined(separator: ", ")) or paths")
        }
        if let evalLimit, evalLimit < 1 { throw ValidationError("--eval_limit \(evalLimit): expected a positive integer") }
        guard evalNumProc >= 1 else { throw ValidationError("--eval_num_proc \(evalNumProc): expected a positive integer") }
        guard maxNewTokens >= 1 else { throw ValidationError("--max_new_tokens \(maxNewTokens): expected a positive integer") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature \(temperature): expected a number ≥ 0") }
        guard fewShotNum >= 0 else { throw ValidationError("--few_shot_num \(fewShotNum): expected 0 or more") }
        if let mcqScoring, ChoiceScoring(rawValue: mcqScoring) == nil {
            throw ValidationError("--eval_mcq_scoring \(mcqScoring): expected generation, loglikelihood or both")
        }
        if evalURL != nil, adapters != nil {
            throw ValidationError("--adapters applies to a local model; with --eval_url the server picks its adapters (name one with --model)")
        }
        if evalURL == nil, model.model == nil, adapters == nil {
            throw ValidationError("give --model (or --adapters CKPT) to evaluate locally, or --eval_url for a server")
        }
        if let maxBatchSize, maxBatchSize < 1 { throw ValidationError("--max_batch_size \(maxBatchSize): expected a positive integer") }
    }

    func run() async throws {
        var options = EvalOptions(datasets: evalDataset, datasetDir: datasetDir.map { URL(fileURLWithPath: $0) },
                                  limit: evalLimit, fewShot: fewShotNum,
                                  choiceScoring: mcqScoring.flatMap(ChoiceScoring.init(rawValue:)), strict: strict)
        if let datasetArgs { options.datasetArguments = try EvalDatasetArguments.parse(datasetArgs) }
        let datasets = try Evaluator.loadDatasets(options)
        for dataset in datasets {
            note("\(dataset.name): \(dataset.samples.count) samples (\(dataset.benchmark.rawValue)) from \(dataset.path)"
                + (dataset.skipped.isEmpty ? "" : ", \(dataset.skipped.count) rows skipped"))
            dataset.skipped.forEach { note("  skipped \($0)") }
        }
        let evalModel: any EvalModel
        if let evalURL {
            evalModel = try await EndpointEvalModel.connect(baseURL: evalURL, model: model.model, apiKey: apiKey,
                                                            concurrency: evalNumProc, maxNewTokens: maxNewTokens,
                                                            temperature: temperature)
            note("endpoint: \(evalURL), model \(evalModel.name), \(evalNumProc) requests at once")
        } else {
            var inference = InferenceOptions(adapter: adapters.map { URL(fileURLWithPath: $0) })
            if let spec = model.model { inference.model = try await hub.resolveModel(spec) }
            inference.templateName = model.template
            inference.system = model.system
            inference.engine = EngineOptions(maxBatchSize: maxBatchSize ?? evalNumProc, maxModelLength: maxModelLen)
            inference.sampling = SamplingFlags(maxNewTokens: maxNewTokens, temperature: temperature)
            let backend = try model.backend()
            evalModel = LocalEvalModel(inference: try Inference.load(inference, backend: backend) { note($0) })
        }
        let report = try await Evaluator.run(datasets, model: evalModel, options: options) { note($0) }
        let folder = EvalReport.runFolder(in: URL(fileURLWithPath: evalOutputDir))
        try report.write(to: folder)
        print(report.table())
        print("report: \(folder.appendingPathComponent("report.json").path)")
        print("predictions: \(folder.appendingPathComponent("predictions").path)/")
    }

    /// A progress or information line on stderr (stdout carries the table).
    func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
