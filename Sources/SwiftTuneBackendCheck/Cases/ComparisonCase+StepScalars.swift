import SwiftTuneTensor

extension ComparisonCase {
    /// The ops that read a training step's scalars from device memory: AdamW with its coefficients in a tensor (the
    /// optimizer's `[2, 7]` rows, as `SwiftTuneNN.AdamW` uploads them), the clip coefficient (clipped, not clipped, a
    /// NaN norm) and scaling by a device scalar (in place, as clipping does). N = 37, D = 72 as the other cases.
    static func stepScalarCases(seed: UInt64) -> [ComparisonCase] {
        var random = SeededGenerator(seed: seed)
        func values(_ count: Int, _ scale: Float = 1) -> [Float] {
            (0..<count).map { _ in Float.random(in: -scale...scale, using: &random) }
        }
        let (n, d) = (37, 72)
        var cases: [ComparisonCase] = []

        let x = values(n * d)
        for (factor, inPlace) in [(Float(0.37), true), (1, true), (-2.5, false)] {
            cases.append(ComparisonCase(op: "scaleByDeviceScalar", variant: "× \(factor)\(inPlace ? ", in place" : "")",
                                        tolerance: .exact) { backend in
                let input = try backend.tensor(x, shape: [n, d]), out = inPlace ? input : try backend.empty([n, d])
                try backend.scale(input, byDeviceScalar: try backend.tensor([factor], shape: [1]), into: out)
                return [("out", try backend.floats(out))]
            })
        }
        for (sum, maxNorm) in [(Float(169), Float(1)), (0.25, 1), (.nan, 1), (0, 0.5)] {
            cases.append(ComparisonCase(op: "clipCoefficient", variant: "Σg² \(sum), max norm \(maxNorm)",
                                        tolerance: .exact) { backend in
                let coefficient = try backend.empty([1])
                try backend.clipCoefficient(sumOfSquares: try backend.tensor([sum], shape: [1]), maxNorm: maxNorm,
                                            into: coefficient)
                return [("coefficient", try backend.floats(coefficient))]
            })
        }
        let (parameter, gradient) = (values(n * d), values(n * d, 0.1))
        let first = values(n * d, 0.01), second = values(n * d, 1e-4).map(abs)
        for (row, weightDecay) in [(0, 0.1), (1, 0.0)] {
            cases.append(ComparisonCase(op: "adamW", variant: "device scalars, row \(row) of [2, 7], wd \(weightDecay)",
                                        tolerance: ComparisonTolerance(absolute: 1e-6, relative: 1e-5)) { backend in
                let groups = try [0.1, 0.0].map {
                    try AdamWCoefficients(learningRate: 1e-3, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: $0,
                                          step: 4)
                }
                let scalars = try backend.tensor(groups.flatMap(\.scalars), shape: [2, AdamWCoefficients.scalarCount])
                let p = try backend.tensor(parameter, shape: [n, d])
                let m = try backend.tensor(first, shape: [n, d]), v = try backend.tensor(second, shape: [n, d])
                try backend.adamW(parameter: p, gradient: try backend.tensor(gradient, shape: [n, d]), firstMoment: m,
                                  secondMoment: v,
                                  scalars: try scalars.rows(row..<(row + 1)).reshaped([AdamWCoefficients.scalarCount]))
                return [("parameter", try backend.floats(p)), ("firstMoment", try backend.floats(m)),
                        ("secondMoment", try backend.floats(v))]
            })
        }
        return cases
    }
}
