import Testing
import SwiftTuneCPU
import SwiftTuneTensor

/// A row-major `rows × columns` matrix of doubles, for host-side references.
struct Matrix {
    var rows: Int
    var columns: Int
    var values: [Double]

    init(rows: Int, columns: Int, values: [Double]) {
        precondition(values.count == rows * columns)
        (self.rows, self.columns, self.values) = (rows, columns, values)
    }

    subscript(row: Int, column: Int) -> Double {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// `self · otherᵀ`: `[rows, other.rows]`.
    func timesTransposed(_ other: Matrix) -> Matrix {
        var out = Matrix(rows: rows, columns: other.rows, values: Array(repeating: 0, count: rows * other.rows))
        for i in 0..<rows {
            for j in 0..<other.rows {
                var sum = 0.0
                for k in 0..<columns { sum += self[i, k] * other[j, k] }
                out[i, j] = sum
            }
        }
        return out
    }
}

/// `count` uniform values in `range`, rounded to f32 so the f32 and f64 paths see the same inputs.
func randomValues(_ count: Int, _ generator: inout SeededGenerator, in range: Range<Double> = -1..<1) -> [Double] {
    generator.uniforms(count, in: range).map(Double.init)
}

/// Fails with the worst element when `max |actual − expected| > tolerance · max(max |expected|, 1e-12)`.
func expectRelativelyClose(_ actual: [Double], _ expected: [Double], tolerance: Double, _ label: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(label): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    let scale = max(expected.map(abs).max() ?? 0, 1e-12)
    var worst = (index: 0, difference: 0.0)
    for i in actual.indices where abs(actual[i] - expected[i]) > worst.difference {
        worst = (i, abs(actual[i] - expected[i]))
    }
    if worst.difference > tolerance * scale {
        Issue.record("""
            \(label): max abs diff \(worst.difference) at \(worst.index) (got \(actual[worst.index]), expected \
            \(expected[worst.index])) exceeds \(tolerance) × \(scale); first got \(actual.prefix(4)), expected \
            \(expected.prefix(4))
            """, sourceLocation: sourceLocation)
    }
}

extension Backend {
    func doubles(_ tensor: Tensor) throws -> [Double] { try floats(tensor).map(Double.init) }
    func tensor(_ values: [Double], _ shape: [Int]) throws -> Tensor { try tensor(values.map(Float.init), shape: shape) }
}
