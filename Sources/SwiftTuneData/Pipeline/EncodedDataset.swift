import SwiftTuneChat

/// Several encoded samples packed into one row of at most `max_length` tokens, with the boundaries kept so the
/// trainer restarts position ids per sample and never lets attention cross a boundary.
public struct PackedSequence: Sendable, Equatable {
    /// Concatenated token ids. Shape: (T,), Int32.
    public var inputIDs: [Int32]
    /// Concatenated labels; each sample's first label is -100. Shape: (T,), Int32.
    public var labels: [Int32]
    /// Lengths of the samples in order (sum = T).
    public var sequenceLengths: [Int]

    /// Position ids restarting at 0 for every sample (ms-swift `packing_row`). Shape: (T,), Int32.
    public var positionIDs: [Int32] { sequenceLengths.flatMap { (0..<$0).map(Int32.init) } }

    /// The samples again.
    public var samples: [EncodedSample] {
        var out: [EncodedSample] = []
        var start = 0
        for n in sequenceLengths {
            out.append(EncodedSample(inputIDs: Array(inputIDs[start..<start + n]), labels: Array(labels[start..<start + n])))
            start += n
        }
        return out
    }
}

/// An encoded dataset: one ``EncodedRow`` per row, and the packed rows when `--packing` is on.
public struct EncodedDataset: Sendable {
    public var rows: [EncodedRow]
    /// Where each row came from (file:line), parallel to `rows`; empty when unknown.
    public var locations: [RowLocation]
    /// Packed rows (nil without packing).
    public var packed: [PackedSequence]?

    public init(rows: [EncodedRow], locations: [RowLocation] = [], packed: [PackedSequence]? = nil) {
        self.rows = rows
        self.locations = locations
        self.packed = packed
    }

    public var count: Int { packed?.count ?? rows.count }
}

/// Best-fit-decreasing bin packing (the `binpacking.to_constant_volume` that ms-swift calls): samples sorted by
/// length (longest first, stable), each put into the fullest bin it still fits; a new bin otherwise.
public enum Packing {
    /// Bins of sample indices for `lengths` with capacity `capacity`.
    public static func bins(lengths: [Int], capacity: Int) -> [[Int]] {
        let order = lengths.indices.sorted { lengths[$0] > lengths[$1] || (lengths[$0] == lengths[$1] && $0 < $1) }
        var bins: [[Int]] = []
        var fill: [Int] = []
        for i in order {
            var best: Int?
            for b in bins.indices where fill[b] + lengths[i] <= capacity {
                if best == nil || fill[b] > fill[best!] { best = b }
            }
            if let b = best {
                bins[b].append(i); fill[b] += lengths[i]
            } else {
                bins.append([i]); fill.append(lengths[i])
            }
        }
        return bins
    }

    /// Packs `samples` into rows of at most `capacity` tokens.
    public static func pack(_ samples: [EncodedSample], capacity: Int) -> [PackedSequence] {
        bins(lengths: samples.map(\.count), capacity: capacity).map { bin in
            PackedSequence(inputIDs: bin.flatMap { samples[$0].inputIDs }, labels: bin.flatMap { samples[$0].labels },
                           sequenceLengths: bin.map { samples[$0].count })
        }
    }
}
