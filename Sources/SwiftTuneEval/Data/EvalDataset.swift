import Foundation
import SwiftTuneData

/// One `--eval_dataset` entry, read: its samples in file order, a few-shot pool, and the rows skipped.
public struct EvalDataset: Sendable {
    /// The name it is reported and written under (`predictions/<name>.jsonl`).
    public var name: String
    /// The benchmark it was read as (a custom file is read as the one its rows look like).
    public var benchmark: Benchmark
    /// The file or folder read.
    public var path: String
    public var samples: [EvalSample]
    /// Examples for few-shot prompts (GSM8K's `train.jsonl`), in file order.
    public var fewShotPool: [EvalSample]
    /// One line per skipped row: `file:line: why`.
    public var skipped: [String]
    /// The user turn's template (`--dataset_args … prompt_template`); nil: the benchmark's.
    public var promptTemplate: String?
    /// Few-shot examples per question (math).
    public var fewShot = 0

    public var kind: EvalTaskKind { benchmark.kind }
    /// The subsets, in the order their first sample appears.
    public var subsets: [String] {
        var seen = Set<String>()
        return samples.map(\.subset).filter { seen.insert($0).inserted }
    }
}

/// Reads `--eval_dataset` entries: benchmark names (resolved under `--dataset_dir`), `KIND=PATH`, or paths whose
/// layout is told from their rows.
public enum EvalDatasetLoader {
    /// Reads one entry. `limit` keeps the first N samples of each subset (EvalScope's `limit`); with `strict` the
    /// first bad row is an error instead of a skipped row.
    public static func load(_ entry: String, datasetDir: URL?, localPath: String? = nil, limit: Int? = nil,
                            strict: Bool = false) throws -> EvalDataset {
        let (benchmark, path, name) = try resolve(localPath.map { "\(entry)=\($0)" } ?? entry, datasetDir: datasetDir)
        let files: [String]
        do { files = try DatasetFileReader.files(at: path) } catch {
            throw EvalError.benchmarkDataMissing(name: name, searched: [path], hint: "\(error)")
        }
        let pools = files.filter { isFewShotFile($0) }
        let evalFiles = pools.count == files.count ? files : files.filter { !isFewShotFile($0) }
        var skipped: [String] = []
        let kind = try benchmark ?? detect(evalFiles)
        var samples = try read(evalFiles, as: kind, strict: strict, skipped: &skipped)
        let pool = pools.count == files.count ? [] : try read(pools, as: kind, strict: strict, skipped: &skipped)
        if let limit {
            var counts: [String: Int] = [:]
            samples = samples.filter { sample in
                counts[sample.subset, default: 0] += 1
                return counts[sample.subset]! <= limit
            }
        }
        guard !samples.isEmpty else { throw EvalError.emptyDataset(name: name, path: path, skipped: skipped.count) }
        return EvalDataset(name: name, benchmark: kind, path: path, samples: samples, fewShotPool: pool, skipped: skipped,
                           promptTemplate: nil)
    }

    /// The benchmark (nil: tell from the rows), the path and the report name of an entry.
    static func resolve(_ entry: String, datasetDir: URL?) throws -> (Benchmark?, String, String) {
        let manager = FileManager.default
        if let equals = entry.firstIndex(of: "="), let benchmark = Benchmark(rawValue: String(entry[..<equals])) {
            let path = String(entry[entry.index(after: equals)...])
            guard manager.fileExists(atPath: path) else {
                throw EvalError.benchmarkDataMissing(name: benchmark.rawValue, searched: [path],
                                                     hint: "\(benchmark.rawValue)=PATH takes an existing file or folder")
            }
            return (benchmark, path, benchmark == .generalQA || benchmark == .generalMCQ ? stem(path) : benchmark.rawValue)
        }
        if let benchmark = Benchmark(rawValue: entry) {
            var searched: [String] = []
            if let datasetDir {
                let folder = datasetDir.appendingPathComponent(entry).path
                if manager.fileExists(atPath: folder) { return (benchmark, folder, entry) }
                searched.append(folder)
            }
            throw EvalError.benchmarkDataMissing(
                name: entry, searched: searched.isEmpty ? ["no --dataset_dir given"] : searched,
                hint: "pass --dataset_dir DIR with DIR/\(entry)/ holding the benchmark's files, or \(entry)=PATH "
                    + "(benchmark data is read from paths; downloading it from a hub is not built in yet)")
        }
        guard manager.fileExists(atPath: entry) else {
            throw EvalError.unknownBenchmark(name: entry, known: Benchmark.names)
        }
        return (nil, entry, stem(entry))
    }

    /// A file of few-shot examples rather than of questions: `train`, `dev`, `*_train`, `*_dev`.
    static func isFewShotFile(_ path: String) -> Bool {
        let name = stem(path).lowercased()
        return name == "train" || name == "dev" || name.hasSuffix("_train") || name.hasSuffix("_dev")
    }

    /// A file's name without folder and extension.
    static func stem(_ path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// The subset a file's rows belong to: its name without a split suffix (`computer_network_val` →
    /// `computer_network`), `default` for a bare split name.
    static func subset(ofFile path: String, benchmark: Benchmark) -> String {
        var name = stem(path)
        for suffix in ["_test", "_val", "_validation", "_dev", "_train"] where name.lowercased().hasSuffix(suffix) {
            name = String(name.dropLast(suffix.count))
            break
        }
        if ["test", "val", "validation", "train", "dev", "data"].contains(name.lowercased()) {
            return benchmark == .gsm8k ? "main" : "default"
        }
        return name
    }

    /// The layout of a custom file, from its first readable row.
    static func detect(_ files: [String]) throws -> Benchmark {
        var found: Benchmark?
        for file in files where found == nil {
            try DatasetFileReader().forEachRecord(at: file) { record in
                guard found == nil, case let .success(fields) = record.fields else { return }
                let keys = Set(fields.map(\.key))
                if keys.contains("query") { found = .generalQA }
                else if keys.contains("question"), !keys.isDisjoint(with: ["A", "choices", "options", "answerKey"]) {
                    found = .generalMCQ
                } else if keys.contains("question"), keys.contains("answer") { found = .gsm8k }
            }
        }
        guard let found else {
            throw EvalError.badRow(location: files.first ?? "?", reason: "no row has a known layout",
                                   hint: "use query/response (general_qa), question/A/B/…/answer (general_mcq) "
                                       + "or question/answer with '#### N' (gsm8k)")
        }
        return found
    }

    static func read(_ files: [String], as benchmark: Benchmark, strict: Bool,
                     skipped: inout [String]) throws -> [EvalSample] {
        var samples: [EvalSample] = []
        var problems: [String] = []
        var failure: EvalError?
        for file in files {
            let subset = subset(ofFile: file, benchmark: benchmark)
            try DatasetFileReader().forEachRecord(at: file) { record in
                guard failure == nil else { return }
                let location = record.location.description
                do {
                    switch record.fields {
                    case let .failure(error):
                        throw EvalError.badRow(location: location, reason: "\(error)", hint: "fix or remove the row")
                    case let .success(fields):
                        samples.append(try EvalRowReader(fields: fields, location: location)
                            .sample(as: benchmark, subset: subset))
                    }
                } catch let error as EvalError {
                    if strict { failure = error } else { problems.append("\(error)") }
                } catch {
                    let wrapped = EvalError.badRow(location: location, reason: "\(error)", hint: "fix or remove the row")
                    if strict { failure = wrapped } else { problems.append("\(wrapped)") }
                }
            }
            if let failure { throw failure }
        }
        skipped += problems
        return samples
    }
}
