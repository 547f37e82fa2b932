import Testing
@testable import SwiftTuneCPU
import SwiftTuneTensor

extension SeededGenerator {
    /// `count` uniform values in `range`, rounded to f32 so the f32 and f64 paths see the same inputs.
    mutating func values(_ count: Int, in range: ClosedRange<Double> = -1...1) -> [Double] {
        (0..<count).map { _ in Double(Float(Double.random(in: range, using: &self))) }
    }

    /// `count` integers in `range`.
    mutating func integers(_ count: Int, in range: Range<Int>) -> [Int] {
        (0..<count).map { _ in Int.random(in: range, using: &self) }
    }
}

/// Checks `|actual[i] − expected[i]| ≤ tol · (1 + |expected[i]|)` for every i (absolute near 0, relative beyond).
///
/// A failure reports the count mismatch or the worst element: its index, both values and the difference,
/// plus the first values of each array, so a broken kernel says where and by how much.
func expectClose<T: BinaryFloatingPoint>(_ actual: [T], _ expected: [T], tol: T, _ label: String,
                                         sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(label): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var worst: (index: Int, difference: T, excess: T)?
    for i in actual.indices {
        let difference = abs(actual[i] - expected[i])
        // A NaN on one side only (or on both sides of a difference) is infinitely wrong.
        let excess = difference.isNaN && !(actual[i].isNaN && expected[i].isNaN)
            ? T.infinity : (difference.isNaN ? 0 : difference / (1 + abs(expected[i])))
        if excess > worst?.excess ?? -1 { worst = (i, difference, excess) }
    }
    guard let worst, worst.excess > tol else { return }
    Issue.record("""
        \(label): max abs diff \(worst.difference) at index \(worst.index) \
        (actual \(actual[worst.index]), expected \(expected[worst.index])), tolerance \(tol) · (1 + |expected|)
          actual   first: \(actual.prefix(6).map { Double($0) })
          expected first: \(expected.prefix(6).map { Double($0) })
        """, sourceLocation: sourceLocation)
}

/// Checks an analytic gradient against a finite-difference one by the norm-wise relative error
/// `max|analytic − numeric| / max|numeric|`, and that the gradient is not trivially zero.
func expectGradient(_ analytic: [Double], _ numeric: [Double], tol: Double = 1e-6, _ label: String,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    let scale = numeric.map(abs).max() ?? 0
    #expect(scale > 1e-3, "\(label): the gradient is ~0 (max \(scale)), so the check would prove nothing",
            sourceLocation: sourceLocation)
    expectClose(analytic.map { $0 / scale }, numeric.map { $0 / scale }, tol: tol, "\(label) (÷ max \(scale))",
                sourceLocation: sourceLocation)
}

/// `Σ w[i] · y[i]`: a random linear functional, whose gradient with respect to y is w.
func weightedSum(_ w: [Double], _ y: [Double]) -> Double {
    zip(w, y).reduce(0) { $0 + $1.0 * $1.1 }
}

/// `count` zeros, for kernel outputs.
func zeros(_ count: Int) -> [Double] { [Double](repeating: 0, count: count) }

// MARK: - Backend helpers

/// A CPU backend seen through the protocol, so a method whose signature drifted from the requirement
/// would reach the throwing default and fail the test instead of being called directly.
func protocolBackend(useBLAS: Bool = true, threadCount: Int = 2) -> any Backend {
    CPUBackend(useBLAS: useBLAS, threadCount: threadCount)
}

extension Backend {
    /// An f32 tensor holding `values` (f64 test data, already f32-representable).
    func f32(_ values: [Double], _ shape: [Int]) throws -> Tensor {
        try tensor(values.map { Float($0) }, shape: shape)
    }

    /// An i32 tensor holding `values`.
    func i32(_ values: [Int], _ shape: [Int]) throws -> Tensor {
        try tensor(values.map { Int32($0) }, shape: shape)
    }

    /// The values of a tensor as f64.
    func doubles(_ tensor: Tensor) throws -> [Double] {
        try floats(tensor).map { Double($0) }
    }
}
