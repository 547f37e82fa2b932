import SwiftTuneTensor

/// Argument checks shared by the ops. Every failure names the op and argument (e.g. `rmsNorm weight`)
/// and says what was expected, so a wrong shape never reaches a kernel.
extension CPUBackend {
    /// Throws unless `tensor` has exactly `expected` as its shape.
    func requireShape(_ tensor: Tensor, _ expected: [Int], _ argument: String) throws {
        guard tensor.shape == expected else {
            throw TensorError.shapeMismatch(op: argument, expected: "\(expected)", got: tensor.shape)
        }
    }

    /// Throws unless `tensor` holds `count` elements (any shape).
    func requireCount(_ tensor: Tensor, _ count: Int, _ argument: String) throws {
        guard tensor.count == count else {
            throw TensorError.shapeMismatch(op: argument, expected: "\(count) elements", got: tensor.shape)
        }
    }

    /// Throws unless `tensor` has rank `rank`; `layout` describes the expected shape, e.g. `[N, H, hd]`.
    func requireRank(_ tensor: Tensor, _ rank: Int, _ argument: String, layout: String) throws {
        guard tensor.rank == rank else {
            throw TensorError.shapeMismatch(op: argument, expected: "rank \(rank) \(layout)", got: tensor.shape)
        }
    }

    /// Views `tensor` as `[rows, columns]` with `columns` its last dimension (rank ≥ 1).
    func matrixSize(_ tensor: Tensor, _ argument: String) throws -> (rows: Int, columns: Int) {
        guard let columns = tensor.shape.last else {
            throw TensorError.shapeMismatch(op: argument, expected: "rank ≥ 1 [N, C]", got: tensor.shape)
        }
        return (tensor.shape.dropLast().reduce(1, *), columns)
    }

    /// The token ids of `ids` (i32 `[N]`), each checked to lie in `0..<bound`.
    func checkedIDs(_ ids: Tensor, bound: Int, _ op: String) throws -> UnsafeMutablePointer<Int32> {
        try requireRank(ids, 1, "\(op) ids", layout: "[N]")
        let pointer = try i32(ids, "\(op) ids")
        for n in 0..<ids.count where pointer[n] < 0 || Int(pointer[n]) >= bound {
            throw TensorError.indexOutOfRange(op: "\(op) ids[\(n)]", index: Int(pointer[n]), bound: bound)
        }
        return pointer
    }

    /// The sequence ranges of `sequenceStarts` (i32 `[S + 1]`): starting at 0, never decreasing, ending at `tokens`.
    func sequences(_ sequenceStarts: Tensor, tokens: Int, _ op: String) throws -> [Range<Int>] {
        let argument = "\(op) sequenceStarts"
        try requireRank(sequenceStarts, 1, argument, layout: "[S + 1]")
        guard sequenceStarts.count >= 2 else {
            throw TensorError.shapeMismatch(op: argument, expected: "[S + 1] with S ≥ 1", got: sequenceStarts.shape)
        }
        let pointer = try i32(sequenceStarts, argument)
        let starts = (0..<sequenceStarts.count).map { Int(pointer[$0]) }
        let valid = starts.first == 0 && starts.last == tokens && zip(starts, starts.dropFirst()).allSatisfy { $0 <= $1 }
        guard valid else {
            // TensorError has no case for bad values; the offsets are reported in place of a shape.
            throw TensorError.shapeMismatch(
                op: "\(argument) values", expected: "offsets rising from 0 to N = \(tokens)", got: starts)
        }
        return zip(starts, starts.dropFirst()).map { $0..<$1 }
    }
}
