/// One encoded conversation: token ids and HF-style labels (not shifted; `-100` = not trained).
public struct EncodedSample: Sendable, Hashable, Codable {
    /// Token ids. Shape: (T,), Int32.
    public var inputIDs: [Int32]
    /// `inputIDs[i]` where position `i` is trained, else ``EncodedSample/ignoreIndex``; `labels[0]` is always
    /// ignored. Shape: (T,), Int32.
    public var labels: [Int32]

    /// The label of untrained positions (PyTorch's cross-entropy `ignore_index`).
    public static let ignoreIndex: Int32 = -100

    public init(inputIDs: [Int32], labels: [Int32]) {
        self.inputIDs = inputIDs
        self.labels = labels
    }

    /// Number of tokens.
    public var count: Int { inputIDs.count }
    /// Number of trained positions.
    public var trainedCount: Int { labels.reduce(0) { $0 + ($1 == Self.ignoreIndex ? 0 : 1) } }

    enum CodingKeys: String, CodingKey {
        case inputIDs = "input_ids"
        case labels
    }
}

/// One encoded dataset row: the conversation, and for DPO the rejected one, for KTO the label.
public struct EncodedRow: Sendable, Equatable, Codable {
    public var chosen: EncodedSample
    public var rejected: EncodedSample?
    public var label: Bool?

    public init(chosen: EncodedSample, rejected: EncodedSample? = nil, label: Bool? = nil) {
        self.chosen = chosen
        self.rejected = rejected
        self.label = label
    }

    /// The longest of chosen and rejected (what `--max_length` is checked against).
    public var length: Int { max(chosen.count, rejected?.count ?? 0) }
}
