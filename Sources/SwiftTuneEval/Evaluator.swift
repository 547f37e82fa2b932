import Foundation

/// How multiple-choice rows are scored (`--eval_mcq_scoring`).
public enum ChoiceScoring: String, Sendable, CaseIterable {
    /// The letter in the generated answer (metric `acc`).
    case generation
    /// The option whose letter is most likely after `ANSWER:`, from one batched forward pass, no generation
    /// (metric `acc_loglikelihood`).
    case loglikelihood
    /// Both, as two rows.
    case both
}

/// Everything `swift-tune eval` resolved from its flags besides the model.
public struct EvalOptions: Sendable {
    /// `--eval_dataset`: benchmark names, `KIND=PATH`, or paths.
    public var datasets: [String]
    /// `--dataset_dir`: the folder benchmark names resolve in (`DIR/gsm8k/test.jsonl`…).
    public var datasetDir: URL?
    /// `--eval_limit`: samples per subset at most.
    public var limit: Int?
    /// `--few_shot_num`: worked examples before each question: GSM8K's from its `train` file, multiple choice's from
    /// the subject's `_dev` file (0: zero-shot).
    public var fewShot: Int
    /// `--eval_mcq_scoring`; nil: both where the model can score log-likelihoods, else generation.
    public var choiceScoring: ChoiceScoring?
    /// `--strict`: a malformed row is an error instead of being skipped.
    public var strict: Bool
    /// `--dataset_args`, by dataset name (the `--eval_dataset` entry, or the name a path is reported under).
    public var datasetArguments: [String: EvalDatasetArguments] = [:]

    public init(datasets: [String], datasetDir: URL? = nil, limit: Int? = nil, fewShot: Int = 0,
                choiceScoring: ChoiceScoring? = nil, strict: Bool = false) {
        self.datasets = datasets
        self.datasetDir = datasetDir
        self.limit = limit
        self.fewShot = fewShot
        self.choiceScoring = choiceScoring
        self.strict = strict
    }

    /// Checks the values that need no file.
    public func validate() throws {
        guard !datasets.isEmpty else {
            throw EvalError.invalidSetting(flag: "eval_dataset", value: "(none)",
                                           expected: "one or more of " + Benchmark.names.joined(separator: ", ") + " or paths")
        }
        if let limit, limit < 1 { throw EvalError.invalidSetting(flag: "eval_limit", value: "\(limit)", expected: "a positive integer") }
        guard fewShot >= 0 else { throw EvalError.invalidSetting(flag: "few_shot_num", value: "\(fewShot)", expected: "0 or more") }
    }
}

/// `swift-tune eval` as a library call: read the sets, ask the model, score, report.
///
/// ```swift
/// let options = EvalOptions(datasets: ["gsm8k", "my_qa.jsonl"], datasetDir: URL(fileURLWithPath: "data"), limit: 20)
/// let datasets = try Evaluator.loadDatasets(options)
/// let report = try await Evaluator.run(datasets, model: LocalEvalModel(inference: inference), options: options)
/// print(report.table())
/// ```
public enum Evaluator {
    /// Reads every `--eval_dataset` entry (rows skipped are in each dataset's `skipped`).
    public static func loadDatasets(_ options: EvalOptions) throws -> [EvalDataset] {
        try options.validate()
        var names = Set<String>()
        return try options.datasets.map { entry in
            let arguments = options.datasetArguments[entry]
            var dataset = try EvalDatasetLoader.load(entry, datasetDir: options.datasetDir, localPath: arguments?.localPath,
                                                     limit: options.limit, strict: options.strict)
            // Settings for a path or KIND=PATH entry may also be keyed by the name it is reported under.
            let settings = arguments ?? options.datasetArguments[dataset.name]
            dataset.promptTemplate = settings?.promptTemplate
            dataset.fewShot = settings?.fewShotNum ?? options.fewShot
            var name = dataset.name, n = 2
            while !names.insert(name).inserted { name = "\(dataset.name)_\(n)"; n += 1 }
            dataset.name = name
            return dataset
        }
    }

    /// Asks `model` every sample of `datasets` and scores the answers. `progress` receives a line per stage.
    public static func run(_ datasets: [EvalDataset], model: any EvalModel, options: EvalOptions,
                           progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> EvalReport {
        let start = Date()
        let scoring = options.choiceScoring ?? (model.scoresLogLikelihood ? .both : .generation)
        if scoring != .generation, !model.scoresLogLikelihood, datasets.contains(where: { $0.kind == .multipleChoice }) {
            _ = try await model.logLikelihoods([])  // the model's own error says why
        }
        var scores: [EvalScore] = [], predictions: [String: [EvalPrediction]] = [:]
        for dataset in datasets {
            var rows: [EvalPrediction] = []
            let template = dataset.promptTemplate
            // Few-shot examples: GSM8K's from its train file; multiple choice's from the same subject's dev file.
            let shots: (EvalSample) -> [EvalSample] = { sample in
                guard dataset.fewShot > 0 else { return [] }
                let pool = dataset.kind == .multipleChoice ? dataset.fewShotPool.filter { $0.subset == sample.subset } : dataset.fewShotPool
                return Array(pool.prefix(dataset.fewShot))
            }
            if dataset.kind != .multipleChoice || scoring != .loglikelihood {
                let conversations = dataset.samples.map { EvalPrompt.conversation(for: $0, fewShot: shots($0), template: template) }
                let total = conversations.count, name = dataset.name
                progress("\(name): generating \(total) answers")
                let answers = try await model.generate(conversations) { done in
                    if done == total || done % 10 == 0 { progress("\(name): \(done)/\(total)") }
                }
                rows += zip(dataset.samples, answers).map {
                    score($1, for: $0, dataset: dataset.name, prompt: EvalPrompt.text(for: $0, fewShot: shots($0), template: template))
                }
            }
            if dataset.kind == .multipleChoice, scoring != .generation {
                progress("\(dataset.name): scoring \(dataset.samples.count) rows by log-likelihood")
                let likelihoods = try await model.logLikelihoods(dataset.samples.map { EvalPrompt.choiceRequest(for: $0, fewShot: shots($0), template: template) })
                rows += zip(dataset.samples, likelihoods).map {
                    choose($1, for: $0, dataset: dataset.name, prompt: EvalPrompt.text(for: $0, fewShot: shots($0), template: template))
                }
            }
            predictions[dataset.name] = rows
            scores += summarize(rows, dataset: dataset)
        }
        let formatter = ISO8601DateFormatter()
        return EvalReport(model: model.name, started: formatter.string(from: start), seconds: Date().timeIntervalSince(start),
                          scores: scores, skipped: datasets.flatMap(\.skipped), predictions: predictions)
    }

    /// Scores one generated answer.
    public static func score(_ answer: String, for sample: EvalSample, dataset: String, prompt: String) -> EvalPrediction {
        var prediction = EvalPrediction(dataset: dataset, subset: sample.subset, location: sample.location,
                                        method: "generation", prompt: prompt,
                                        answer: answer, extracted: nil, gold: sample.gold, correct: nil)
        switch sample.kind {
        case .math:
            prediction.extracted = AnswerExtraction.finalNumber(in: answer)
            prediction.correct = prediction.extracted.map { numbersEqual($0, sample.gold) } ?? false
        case .multipleChoice:
            prediction.extracted = AnswerExtraction.choiceLetter(in: answer, letters: sample.letters)
            prediction.correct = prediction.extracted == sample.gold
        case .openQA:
            prediction.extracted = answer
            prediction.scores = ["rouge-l-f": TextOverlap.rougeL(answer, reference: sample.gold),
                                 "bleu-4": TextOverlap.bleu4(answer, reference: sample.gold)]
        }
        return prediction
    }

    /// Picks the most likely option (the first of equals).
    public static func choose(_ likelihoods: [Double], for sample: EvalSample, dataset: String,
                              prompt: String) -> EvalPrediction {
        let letters = sample.letters
        var best = 0
        for (index, value) in likelihoods.enumerated() where value > likelihoods[best] { best = index }
        return EvalPrediction(
            dataset: dataset, subset: sample.subset, location: sample.location, method: "loglikelihood",
            prompt: prompt, answer: likelihoods.isEmpty ? "" : letters[best],
            extracted: likelihoods.isEmpty ? nil : letters[best], gold: sample.gold,
            correct: !likelihoods.isEmpty && letters[best] == sample.gold,
            logLikelihoods: Dictionary(uniqueKeysWithValues: zip(letters, likelihoods)))
    }

    /// Two normalized numbers are equal as decimals (`"18"` and `"18.0"`), or as text when not numbers.
    static func numbersEqual(_ a: String, _ b: String) -> Bool {
        if let x = Decimal(string: a), let y = Decimal(string: b) { return x == y }
        return a == b
    }

    /// The rows of the table for one dataset: per subset and metric, then `OVERALL` when there are several subsets.
    static func summarize(_ rows: [EvalPrediction], dataset: EvalDataset) -> [EvalScore] {
        func values(_ row: EvalPrediction) -> [(String, Double)] {
            if let scores = row.scores { return scores.sorted { $0.key > $1.key }.map { ($0.key, $0.value) } }
            return [(row.method == "loglikelihood" ? "acc_loglikelihood" : "acc", row.correct == true ? 1 : 0)]
        }
        var table: [EvalScore] = []
        var metrics: [String] = []
        for row in rows { for (metric, _) in values(row) where !metrics.contains(metric) { metrics.append(metric) } }
        let subsets = dataset.subsets
        for metric in metrics {
            var total = 0.0, count = 0
            for subset in subsets {
                let scored = rows.filter { $0.subset == subset }.flatMap(values).filter { $0.0 == metric }.map(\.1)
                guard !scored.isEmpty else { continue }
                table.append(EvalScore(dataset: dataset.name, subset: subset, metric: metric,
                                       score: scored.reduce(0, +) / Double(scored.count), count: scored.count))
                total += scored.reduce(0, +)
                count += scored.count
            }
            if subsets.count > 1, count > 0 {
                table.append(EvalScore(dataset: dataset.name, subset: "OVERALL", metric: metric,
                                       score: total / Double(count), count: count))
            }
        }
        return table
    }
}
