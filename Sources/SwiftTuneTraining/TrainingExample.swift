import SwiftTuneChat
import SwiftTuneData
import SwiftTuneModels

/// One training example: a single encoded row, or a packed bin of several rows (`--packing`). Either way it
/// is a list of samples that a micro-batch concatenates into one packed `TokenBatch`.
public struct TrainingExample: Sendable, Equatable {
    /// Input ids per sample.
    public var sequences: [[Int32]]
    /// HF-style labels per sample (`-100` where no loss is taken), not shifted.
    public var labels: [[Int32]]

    public init(sequences: [[Int32]], labels: [[Int32]]) {
        self.sequences = sequences
        self.labels = labels
    }

    public init(_ sample: EncodedSample) {
        self.init(sequences: [sample.inputIDs], labels: [sample.labels])
    }

    /// The examples of an encoded dataset: its packed bins when packed, else one example per row.
    public static func examples(of dataset: EncodedDataset) -> [TrainingExample] {
        if let packed = dataset.packed {
            return packed.map { bin in
                let samples = bin.samples
                return TrainingExample(sequences: samples.map(\.inputIDs), labels: samples.map(\.labels))
            }
        }
        return dataset.rows.map { TrainingExample($0.chosen) }
    }

    /// Tokens in the example.
    public var tokenCount: Int { sequences.reduce(0) { $0 + $1.count } }
}

extension TokenBatch {
    /// The examples packed end to end into one batch.
    public init(examples: [TrainingExample]) throws {
        try self.init(sequences: examples.flatMap(\.sequences), labels: examples.flatMap(\.labels))
    }
}
