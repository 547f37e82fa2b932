import SwiftTuneChat
import SwiftTuneTokenizers

/// The datasets a trainer gets: encoded training rows, optional validation rows, and what happened.
public struct DatasetLoadResult: Sendable {
    public var train: EncodedDataset
    public var validation: EncodedDataset?
    /// The validation rows before encoding (for `val_dataset.jsonl` and `infer --load_data_args`).
    public var validationRows: [DatasetRow] = []
    public var report: DatasetLoadReport
}

/// Loads `--dataset` / `--val_dataset` the way ms-swift's `load_dataset` + `EncodePreprocessor` do:
///
/// 1. each dataset is read and preprocessed into ``DatasetRow``s (bad rows skipped and counted, or `strict`);
/// 2. per dataset, `#N` sampling and `--split_dataset_ratio` with one numpy `RandomState(--data_seed)` shared by
///    all datasets in order (`sample_dataset`, `post_process`);
/// 3. the datasets are concatenated and, with `--dataset_shuffle`, shuffled with HF `datasets`' permutation
///    (`default_rng(get_seed(random_state))`);
/// 4. every row is encoded with the template; rows longer than `--max_length` are deleted or truncated;
/// 5. with `--packing`, encoded samples are bin-packed into `max_length` rows.
public enum DatasetPipeline {
    /// Loads, samples, encodes and (optionally) packs. Throws on a bad flag, an unreadable file, a bad row under
    /// `strict`, or when a dataset ends up empty (the error says why every row was dropped).
    public static func load(_ specs: [DatasetSpec], options: DatasetOptions, tokenizer: any TextTokenizer,
                            template: ChatTemplate) throws(DataError) -> DatasetLoadResult {
        try options.validate()
        let encoder = TemplateEncoder(template: template, tokenizer: tokenizer, options: options.template)
        var report = DatasetLoadReport()
        let (trainRows, splitValRows) = try loadLocatedRows(specs, splitRatio: options.splitDatasetRatio,
                                                            shuffle: options.datasetShuffle, options: options, report: &report)
        var valRows = splitValRows
        if !options.valDatasets.isEmpty {
            (_, valRows) = try loadLocatedRows(options.valDatasets, splitRatio: 1, shuffle: options.valDatasetShuffle,
                                               options: options, report: &report)
        }
        let train = try encode(trainRows, name: specs.map(\.raw).joined(separator: " "), encoder: encoder,
                               options: options, report: &report)
        report.trainRows = train.rows.count
        var validation: EncodedDataset?
        if let valRows, !valRows.isEmpty {
            validation = try encode(valRows, name: "validation", encoder: encoder, options: options, report: &report)
            report.validationRows = validation?.rows.count ?? 0
        }
        if options.packing, let maxLength = options.maxLength {
            var packed = train
            packed.packed = Packing.pack(train.rows.map(\.chosen), capacity: maxLength)
            report.packedRows = packed.packed?.count
            return DatasetLoadResult(train: packed, validation: validation, validationRows: valRows?.map(\.row) ?? [],
                                     report: report)
        }
        return DatasetLoadResult(train: train, validation: validation, validationRows: valRows?.map(\.row) ?? [],
                                 report: report)
    }

    /// A preprocessed row and where it came from (file:line, or the element of a JSON array), kept through sampling
    /// and shuffling so that encoding problems name the source row.
    public typealias LocatedRow = (row: DatasetRow, location: RowLocation)

    /// Steps 1–3: the preprocessed rows of `specs` after sampling, splitting and shuffling (ms-swift
    /// `load_dataset(datasets, split_dataset_ratio, seed, shuffle)`).
    public static func loadRows(_ specs: [DatasetSpec], splitRatio: Double, shuffle: Bool, options: DatasetOptions,
                                report: inout DatasetLoadReport) throws(DataError) -> (train: [DatasetRow], validation: [DatasetRow]?) {
        let (train, validation) = try loadLocatedRows(specs, splitRatio: splitRatio, shuffle: shuffle, options: options,
                                                      report: &report)
        return (train.map(\.row), validation?.map(\.row))
    }

    /// `loadRows` with each row's source location.
    public static func loadLocatedRows(_ specs: [DatasetSpec], splitRatio: Double, shuffle: Bool, options: DatasetOptions,
                                       report: inout DatasetLoadReport) throws(DataError)
        -> (train: [LocatedRow], validation: [LocatedRow]?) {
        var random = NumpyRandomState(seed: options.dataSeed)
        var train: [LocatedRow] = []
        var validation: [LocatedRow] = []
        var hasValidation = false
        for spec in specs {
            let rows = try readLocatedRows(spec, options: options, report: &report)
            if rows.isEmpty {
                throw .emptyDataset(name: spec.raw, reason: report.skippedCount > 0
                    ? "all \(report.rowsRead) rows were dropped: \(report.skippedSummary)" : "it has no rows")
            }
            let (t, v) = try postProcess(rows, sample: spec.sampleCount, splitRatio: splitRatio, shuffle: shuffle,
                                         random: &random, spec: spec)
            train += t
            if let v { validation += v; hasValidation = true }
        }
        if shuffle && !train.isEmpty {
            var generator = NumpyGenerator(seed: UInt64(random.nextSeed()))
            train = generator.permutation(train.count).map { train[$0] }
        }
        if shuffle && !validation.isEmpty {
            var generator = NumpyGenerator(seed: UInt64(random.nextSeed()))
            validation = generator.permutation(validation.count).map { validation[$0] }
        }
        return (train, hasValidation ? validation : nil)
    }

    /// ms-swift `sample_dataset(dataset, n, shuffle, random_state)`: the whole set repeated `n / count` times,
    /// then `n % count` rows drawn without replacement (`permutation(count)[:rest]`, or the first ones without
    /// shuffle).
    public static func sampleIndices(count: Int, sample: Int, shuffle: Bool, random: inout NumpyRandomState) -> [Int] {
        guard count > 0 else { return [] }
        var indices: [Int] = []
        for _ in 0..<(sample / count) { indices += 0..<count }
        let rest = sample % count
        if rest > 0 {
            indices += shuffle ? Array(random.permutation(count).prefix(rest)) : Array(0..<rest)
        }
        return indices
    }

    /// ms-swift `DatasetLoader.post_process`: `#N` sampling and the train/validation split of one dataset.
    static func postProcess<Row>(_ rows: [Row], sample: Int?, splitRatio: Double, shuffle: Bool,
                                 random: inout NumpyRandomState, spec: DatasetSpec) throws(DataError) -> ([Row], [Row]?) {
        let n = rows.count
        let sample = sample ?? n
        if splitRatio == 0 {
            return (sampleIndices(count: n, sample: sample, shuffle: shuffle, random: &random).map { rows[$0] }, nil)
        }
        if splitRatio == 1 {
            guard sample <= n else {
                throw .invalidOption(name: "val_dataset", expected: "#N at most the \(n) rows of \(spec.raw)", got: "#\(sample)")
            }
            return ([], sampleIndices(count: n, sample: sample, shuffle: shuffle, random: &random).map { rows[$0] })
        }
        let trainLength = min(n, sample)
        let valSample = max(Int(Double(trainLength) * splitRatio), 1)
        let trainSample = sample - valSample
        guard trainSample > 0 else {
            throw .invalidOption(name: "split_dataset_ratio", expected: "a ratio leaving training rows in \(spec.raw) (\(n) rows)",
                                 got: "\(splitRatio)")
        }
        // HF datasets train_test_split(test_size=valSample, shuffle, seed=get_seed(random_state)).
        let seed = random.nextSeed()
        let order: [Int]
        if shuffle {
            var generator = NumpyGenerator(seed: UInt64(seed))
            order = generator.permutation(n)
        } else {
            order = Array(n - valSample..<n) + Array(0..<(n - valSample))
        }
        let valRows = order.prefix(valSample).map { rows[$0] }
        let trainPool = order.dropFirst(valSample).map { rows[$0] }
        let trainRows = sampleIndices(count: trainPool.count, sample: trainSample, shuffle: shuffle, random: &random)
            .map { trainPool[$0] }
        return (trainRows, valRows)
    }

    /// Step 1 for one dataset: the file(s) or the built-in self-cognition set, preprocessed.
    public static func readRows(_ spec: DatasetSpec, options: DatasetOptions,
                                report: inout DatasetLoadReport) throws(DataError) -> [DatasetRow] {
        try readLocatedRows(spec, options: options, report: &report).map(\.row)
    }

    /// `readRows` with each row's source location.
    public static func readLocatedRows(_ spec: DatasetSpec, options: DatasetOptions,
                                       report: inout DatasetLoadReport) throws(DataError) -> [LocatedRow] {
        switch spec.source {
        case let .hub(id, _):
            guard SelfCognition.names.contains(id.lowercased()) else { throw .notFoundLocally(spec: spec.raw) }
            let rows = SelfCognition.rows(name: SelfCognition.Identity(values: options.modelName),
                                          author: SelfCognition.Identity(values: options.modelAuthor))
            report.rowsRead += rows.count
            return rows.enumerated().map { ($0.element.row, RowLocation(file: id, element: $0.offset)) }
        case let .path(path):
            let reader = DatasetFileReader(maxLineBytes: options.maxLineBytes)
            let preprocessor = RowPreprocessor(columns: options.columns, autoColumnMapping: options.autoColumnMapping,
                                               requiresAnswer: options.requiresAnswer)
            var rows: [LocatedRow] = []
            try reader.forEachRecord(at: path) { (record: RawRecord) throws(DataError) in
                report.rowsRead += 1
                do throws(DataError) {
                    let fields = try record.fields.get()
                    let row = try preprocessor.convert(fields, at: record.location)
                    if let (problem, key, detail) = options.preferenceRows?.problem(row) {
                        throw DataError.badRow(location: record.location, problem: problem, key: key, detail: detail)
                    }
                    rows.append((row, record.location))
                } catch {
                    if options.strict { throw error }
                    report.record(error)
                }
            }
            return rows
        }
    }

    /// Step 4: encode every row; over-long rows deleted or truncated; template errors skipped (or thrown
    /// under `strict`).
    static func encode(_ rows: [LocatedRow], name: String, encoder: TemplateEncoder, options: DatasetOptions,
                       report: inout DatasetLoadReport) throws(DataError) -> EncodedDataset {
        var out: [EncodedRow] = []
        var locations: [RowLocation] = []
        out.reserveCapacity(rows.count)
        for (row, location) in rows {
            var encoded: EncodedRow
            do { encoded = try encoder.encode(row) } catch {
                let e = DataError.badRow(location: location, problem: .templateError,
                                         key: "messages", detail: error.description)
                if options.strict { throw e }
                report.record(e)
                continue
            }
            if options.preferenceRows != nil, let limit = options.maxCompletionLength {
                encoded.chosen = PreferenceTruncation.cutAnswer(encoded.chosen, to: limit)
                encoded.rejected = encoded.rejected.map { PreferenceTruncation.cutAnswer($0, to: limit) }
            }
            if let maxLength = options.maxLength, encoded.length > maxLength {
                switch options.truncationStrategy {
                case .delete:
                    let e = DataError.badRow(location: location, problem: .tooLong, key: nil,
                                             detail: "\(encoded.length) tokens > max_length \(maxLength) (truncation_strategy delete)")
                    report.record(e)
                    continue
                case .left where options.preferenceRows != nil:
                    // The prompt loses its start first, so both answers stay whole where they fit.
                    encoded.chosen = PreferenceTruncation.cutPrompt(encoded.chosen, to: maxLength)
                    encoded.rejected = encoded.rejected.map { PreferenceTruncation.cutPrompt($0, to: maxLength) }
                    report.truncatedRows += 1
                case .left, .right:
                    encoded.chosen = truncate(encoded.chosen, to: maxLength, keepEnd: options.truncationStrategy == .left)
                    encoded.rejected = encoded.rejected.map { truncate($0, to: maxLength, keepEnd: options.truncationStrategy == .left) }
                    if options.preferenceRows != nil, let e = PreferenceTruncation.lostAnswer(encoded, at: location, options: options) {
                        if options.strict { throw e }
                        report.record(e)
                        continue
                    }
                    report.truncatedRows += 1
                case .split:
                    if options.preferenceRows != nil {
                        throw DataError.badRow(location: location, problem: .tooLong, key: nil,
                                               detail: "\(encoded.length) tokens > max_length \(maxLength): truncation_strategy split "
                                                   + "cannot cut a preference pair into pieces; use left, right or delete")
                    }
                    let pieces = split(encoded.chosen, into: maxLength)
                    out += pieces.map { EncodedRow(chosen: $0, label: encoded.label) }
                    locations += Array(repeating: location, count: pieces.count)
                    report.splitRows += 1
                    report.rowsFromSplits += pieces.count
                    continue
                }
            }
            out.append(encoded)
            locations.append(location)
        }
        report.maxLength = options.maxLength
        report.truncationStrategy = options.truncationStrategy
        if out.isEmpty {
            var reasons = RowProblem.allCases.compactMap { p -> String? in
                guard let n = report.skipped[p] else { return nil }
                if p == .tooLong, let maxLength = options.maxLength {
                    return "\(n) longer than max_length \(maxLength) (truncation_strategy \(options.truncationStrategy.rawValue))"
                }
                return "\(n) \(p.rawValue)"
            }.joined(separator: ", ")
            if reasons.isEmpty { reasons = "no rows" }
            if report.skipped[.tooLong] != nil {
                reasons += "; hint: keep part of each long row with --truncation_strategy left or right, or raise --max_length"
            }
            throw .emptyDataset(name: name, reason: "all \(rows.count) rows were dropped: \(reasons)")
        }
        return EncodedDataset(rows: out, locations: locations)
    }

    /// `--truncation_strategy split`: consecutive pieces of at most `maxLength` tokens, each with its first label
    /// ignored (it has no previous token in its piece).
    public static func split(_ sample: EncodedSample, into maxLength: Int) -> [EncodedSample] {
        stride(from: 0, to: sample.count, by: maxLength).map { start in
            let range = start..<min(sample.count, start + maxLength)
            var labels = Array(sample.labels[range])
            labels[0] = EncodedSample.ignoreIndex
            return EncodedSample(inputIDs: Array(sample.inputIDs[range]), labels: labels)
        }
    }

    /// ms-swift `_truncate`: the first (`right`) or last (`left`) `maxLength` tokens; `labels[0] = -100`.
    public static func truncate(_ sample: EncodedSample, to maxLength: Int, keepEnd: Bool) -> EncodedSample {
        guard sample.count > maxLength else { return sample }
        let range = keepEnd ? (sample.count - maxLength)..<sample.count : 0..<maxLength
        var labels = Array(sample.labels[range])
        if !labels.isEmpty { labels[0] = EncodedSample.ignoreIndex }
        return EncodedSample(inputIDs: Array(sample.inputIDs[range]), labels: labels)
    }
}
