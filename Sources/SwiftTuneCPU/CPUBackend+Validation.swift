import SwiftTuneTensor

/// The value checks only this backend can make, because it reads the memory: ids in range and sequence offsets that
/// rise. Shapes and dtypes are checked before, by `OpCheck`, the same way on every backend.
extension CPUBackend {
    /// The token ids of `ids` (i32 `[N]`, already checked by `OpCheck`), each checked to lie in `0..<bound`.
    func checkedIDs(_ ids: Tensor, bound: Int, _ op: String) throws -> UnsafeMutablePointer<Int32> {
        let pointer = try i32(ids, "\(op) ids")
        for n in 0..<ids.count where pointer[n] < 0 || Int(pointer[n]) >= bound {
            throw TensorError.indexOutOfRange(op: "\(op) ids[\(n)]", index: Int(pointer[n]), bound: bound)
        }
        return pointer
    }

    /// The sequence ranges of `sequenceStarts` (i32 `[S + 1]`, already checked by `OpCheck.offsets`): starting at 0,
    /// never decreasing, ending at `tokens`.
    func sequences(_ sequenceStarts: Tensor, tokens: Int, _ op: String) throws -> [Range<Int>] {
        let argument = "\(op) sequenceStarts"
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
