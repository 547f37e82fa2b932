#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwiftTuneTensor

/// One op run with bf16 storage on the candidate against the f32 reference: both get the same bf16-rounded inputs
/// (the reference as f32 tensors, so it computes in f32 without bf16 support of its own; the candidate as bf16
/// tensors), and each output is compared by its kind (`BF16Output.Kind`).
struct BF16ComparisonCase {
    var op: String
    /// Starts with `bf16`, so the rows stand apart from the f32 cases of the same op.
    var variant: String
    /// The op's f32 tolerance, which every kind of output also allows.
    var tolerance: ComparisonTolerance
    /// Builds the inputs on a backend in `storage` (f32 on the reference, bf16 on the candidate), runs the op and
    /// returns its outputs.
    var run: (_ backend: any Backend, _ storage: DType) throws -> [BF16Output]

    /// The relative error a bf16 result may have against its row's largest value: 2^-7, four times the rounding
    /// of one bf16 store (2^-9), leaving room for cancellation inside a row.
    static let rowRelative: Float = 1.0 / 128

    /// Runs the reference in f32 and the candidate in `candidateStorage` (bf16; f32 only to test the cases
    /// themselves) and compares every output.
    func compare(reference: any Backend, candidate: any Backend, candidateStorage: DType = .bf16)
        -> [BackendOpComparison] {
        let row = { (output: String, outcome: BackendOpComparison.Outcome) in
            BackendOpComparison(op: op, variant: variant, output: output, outcome: outcome, tolerance: tolerance)
        }
        let expected: [BF16Output], actual: [BF16Output]
        switch ComparisonCase.runBoth(reference: reference, candidate: candidate, row: row,
                                      reference: { try run($0, .f32) }, candidate: { try run($0, candidateStorage) }) {
        case let .outputs(reference, candidate): (expected, actual) = (reference, candidate)
        case let .stopped(result): return [result]
        }
        return zip(expected, actual).map { expected, actual in
            let base = row(expected.name, .passed)
            switch expected.kind {
            case .statistic:
                return ComparisonCase.compare(expected.values, actual.values, into: base, tolerance: tolerance)
            case .copy:
                return ComparisonCase.compare(expected.values.map(BF16ComparisonCase.rounded), actual.values, into: base,
                                              tolerance: .exact)
            case let .stored(rowLength):
                return Self.compareRows(expected.values, actual.values, rowLength: rowLength, into: base,
                                        tolerance: tolerance)
            }
        }
    }

    /// `value` rounded to bf16 (round to nearest even) and back.
    static func rounded(_ value: Float) -> Float { FloatBits.float(fromBF16: FloatBits.bf16(from: value)) }

    /// Compares a bf16-stored output row by row: an element passes within the f32 tolerance plus `rowRelative` of its
    /// row's largest magnitude. The row's `tolerance` shows the loosest row's absolute allowance.
    static func compareRows(_ expected: [Float], _ actual: [Float], rowLength: Int, into row: BackendOpComparison,
                            tolerance: ComparisonTolerance) -> BackendOpComparison {
        var result = row
        result.elementCount = expected.count
        guard expected.count == actual.count else {
            result.outcome = .error("reference gave \(expected.count) elements, candidate \(actual.count)")
            return result
        }
        var worstExcess = -Float.infinity, loosest = tolerance.absolute
        for start in stride(from: 0, to: expected.count, by: max(rowLength, 1)) {
            let rows = start..<min(start + max(rowLength, 1), expected.count)
            let scale = expected[rows].reduce(Float(0)) { $1.isFinite ? max($0, abs($1)) : $0 }
            let absolute = tolerance.absolute + rowRelative * scale
            loosest = max(loosest, absolute)
            for index in rows {
                let (reference, candidate) = (expected[index], actual[index])
                let agree = candidate == reference || (reference.isNaN && candidate.isNaN)
                let difference: Float = agree ? 0 : abs(candidate - reference)
                let excess = difference.isNaN ? .infinity : difference - (absolute + tolerance.relative * abs(reference))
                result.maxAbsoluteError = max(result.maxAbsoluteError, difference.isNaN ? .infinity : difference)
                if abs(reference) > absolute {
                    result.maxRelativeError = max(result.maxRelativeError, difference / abs(reference))
                }
                if excess > worstExcess {
                    (worstExcess, result.worstIndex) = (excess, index)
                    (result.worstReference, result.worstCandidate) = (reference, candidate)
                }
                if excess > 0 { result.outcome = .failed }
            }
        }
        result.tolerance = ComparisonTolerance(absolute: loosest, relative: tolerance.relative)
        return result
    }
}

/// One output of a bf16 case, read back as f32.
struct BF16Output {
    enum Kind {
        /// Stored in the storage dtype (bf16 on the candidate): the f32 tolerance plus 1/128 of its row's scale,
        /// rows of `rowLength` elements.
        case stored(rowLength: Int)
        /// f32 on both sides (1/rms, a sum of squares, an f32 accumulator): the f32 tolerance.
        case statistic
        /// Computed in f32 and rounded once (a copy, dropout): the reference rounded to bf16, bit for bit.
        case copy
    }

    var name: String
    var values: [Float]
    var kind: Kind

    /// `tensor`'s values as `kind`, by default `.stored` in rows of its last dimension.
    init(_ name: String, _ backend: any Backend, _ tensor: Tensor, _ kind: Kind? = nil) throws {
        self.name = name
        values = try backend.floats(tensor)
        self.kind = kind ?? .stored(rowLength: tensor.shape.last ?? 1)
    }
}

