import SwiftTuneTensor

/// A batch of token sequences packed end to end, as the decoder consumes it.
///
/// Packing replaces padding: `sequenceStarts` marks where each sequence begins, attention never crosses a
/// boundary, and positions restart at 0 for each sequence. `targets[t]` is the token that position `t` must
/// predict (already shifted), or `-100` where no loss is taken.
public struct TokenBatch: Sendable, Equatable {
    /// `[N]` token ids.
    public var inputIds: [Int32]
    /// `[N]` position of each token inside its sequence.
    public var positions: [Int32]
    /// `[S + 1]` offsets: sequence `s` is `inputIds[sequenceStarts[s] ..< sequenceStarts[s + 1]]`.
    public var sequenceStarts: [Int32]
    /// `[N]` next-token targets, `-100` = ignored.
    public var targets: [Int32]

    public static let ignoreIndex: Int32 = -100

    /// Packs sequences with HF-style labels (`labels[t]` is the label *of* token t, as passed to a HF model):
    /// the targets are shifted by one inside each sequence, and each sequence's last token has no target.
    /// Without labels, every next token is a target.
    public init(sequences: [[Int32]], labels: [[Int32]]? = nil) throws {
        if let labels {
            guard labels.count == sequences.count else {
                throw ModelError.invalidBatch("\(sequences.count) sequences but \(labels.count) label rows")
            }
            for (s, (ids, row)) in zip(sequences, labels).enumerated() where ids.count != row.count {
                throw ModelError.invalidBatch("sequence \(s) has \(ids.count) tokens but \(row.count) labels")
            }
        }
        var inputIds: [Int32] = [], positions: [Int32] = [], starts: [Int32] = [0], targets: [Int32] = []
        for (s, ids) in sequences.enumerated() {
            guard !ids.isEmpty else { throw ModelError.invalidBatch("sequence \(s) is empty") }
            let row = labels?[s] ?? ids
            inputIds += ids
            positions += (0..<ids.count).map { Int32($0) }
            targets += row.dropFirst() + [Self.ignoreIndex]
            starts.append(Int32(inputIds.count))
        }
        self.inputIds = inputIds
        self.positions = positions
        self.sequenceStarts = starts
        self.targets = targets
    }

    /// Number of tokens.
    public var count: Int { inputIds.count }
    /// Number of tokens that carry a loss.
    public var scoredTokenCount: Int { targets.lazy.filter { $0 != Self.ignoreIndex }.count }

    /// Checks ids and targets against the vocabulary (at the edge, so device ops never see a bad id).
    public func validate(vocabularySize: Int) throws {
        if let bad = inputIds.firstIndex(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw ModelError.invalidBatch("token \(bad) has id \(inputIds[bad]), outside the vocabulary 0..<\(vocabularySize)")
        }
        if let bad = targets.firstIndex(where: { $0 != Self.ignoreIndex && ($0 < 0 || Int($0) >= vocabularySize) }) {
            throw ModelError.invalidBatch("target \(bad) is \(targets[bad]), outside the vocabulary 0..<\(vocabularySize) and not -100")
        }
    }

    /// The batch as device tensors.
    public func upload(to backend: any Backend) throws -> DeviceBatch {
        let scored = targets.indices.filter { targets[$0] != Self.ignoreIndex }
        let partial = !scored.isEmpty && scored.count < count
        return DeviceBatch(
            count: count,
            inputIds: try backend.tensor(inputIds, shape: [count]),
            positions: try backend.tensor(positions, shape: [count]),
            sequenceStarts: try backend.tensor(sequenceStarts, shape: [sequenceStarts.count]),
            targets: try backend.tensor(targets, shape: [count]),
            scoredTokenCount: scored.count,
            scoredRows: partial ? try backend.tensor(scored.map { Int32($0) }, shape: [scored.count]) : nil,
            scoredTargets: partial ? try backend.tensor(scored.map { targets[$0] }, shape: [scored.count]) : nil)
    }
}

/// A `TokenBatch` on a device.
public struct DeviceBatch: Sendable {
    public let count: Int
    public let inputIds: Tensor
    public let positions: Tensor
    public let sequenceStarts: Tensor
    public let targets: Tensor
    public let scoredTokenCount: Int
    /// i32 `[M]`: the positions whose target is not `-100`, when some are (nil when all or none are scored).
    public let scoredRows: Tensor?
    /// i32 `[M]`: the targets at `scoredRows`.
    public let scoredTargets: Tensor?
}
