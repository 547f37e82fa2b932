import Testing
@testable import SwiftTuneCPU
import SwiftTuneTensor

/// The ops that read a training step's scalars from device memory (the seam for capturing a step as a CUDA graph):
/// AdamW with its coefficients in a tensor, the clip coefficient, and scaling by a device scalar. Each equals the
/// host-scalar path bit for bit.
@Suite("Device-side step scalars")
struct StepScalarTests {
    let backend = protocolBackend(threadCount: 3)

    @Test func adamWWithDeviceScalarsEqualsTheHostScalarStepBitForBit() throws {
        var random = SeededGenerator(seed: 5)
        let count = 20_011
        let start = random.values(count).map(Float.init)
        let gradients = (0..<3).map { _ in random.values(count, in: -0.1...0.1).map(Float.init) }
        for (weightDecay, beta1) in [(0.0, 0.9), (0.1, 0.9), (0.01, 0.6)] {
            let host = (p: try backend.tensor(start, shape: [count]), m: try backend.zeros([count]),
                        v: try backend.zeros([count]))
            let device = (p: try backend.tensor(start, shape: [count]), m: try backend.zeros([count]),
                          v: try backend.zeros([count]))
            let scalars = try backend.zeros([AdamWCoefficients.scalarCount])
            for (index, values) in gradients.enumerated() {
                let gradient = try backend.tensor(values, shape: [count])
                try backend.adamW(parameter: host.p, gradient: gradient, firstMoment: host.m, secondMoment: host.v,
                                  learningRate: 1e-3, beta1: beta1, beta2: 0.95, epsilon: 1e-8, weightDecay: weightDecay,
                                  step: index + 1)
                let coefficients = try AdamWCoefficients(learningRate: 1e-3, beta1: beta1, beta2: 0.95, epsilon: 1e-8,
                                                         weightDecay: weightDecay, step: index + 1)
                try coefficients.scalars.withUnsafeBytes { try backend.upload($0, to: scalars) }
                try backend.adamW(parameter: device.p, gradient: gradient, firstMoment: device.m,
                                  secondMoment: device.v, scalars: scalars)
            }
            for (name, a, b) in [("parameter", host.p, device.p), ("m", host.m, device.m), ("v", host.v, device.v)] {
                #expect(try backend.floats(a).map(\.bitPattern) == backend.floats(b).map(\.bitPattern),
                        "\(name), wd \(weightDecay), β1 \(beta1)")
            }
        }
    }

    @Test func adamWScalarsAreTheCoefficientsRoundedToF32InKernelOrder() throws {
        let c = try AdamWCoefficients(learningRate: 2e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1,
                                      step: 3)
        #expect(c.scalars == [c.decay, c.firstMomentWeight, c.beta2, c.secondMomentWeight, c.biasCorrection2Root,
                              c.epsilon, c.negativeStepSize].map { Float($0) })
        #expect(c.scalars.count == AdamWCoefficients.scalarCount)
    }

    @Test func clipCoefficientIsClipGradNormsFactorInF32() throws {
        let squared = try backend.zeros([1]), coefficient = try backend.zeros([1])
        // (Σ g², maxNorm): clipped, not clipped, exactly at the norm, zero gradients, a NaN norm, maxNorm 0.
        for (sum, maxNorm) in [(Float(169), Float(1)), (169, 20), (4, 2), (0, 1), (.nan, 1), (2.25, 0), (1e30, 0.5)] {
            try backend.fill(squared, with: sum)
            try backend.clipCoefficient(sumOfSquares: squared, maxNorm: maxNorm, into: coefficient)
            // GradientClipping.clip before this op: the norm in Double from the f32 sum, the factor in f32.
            let norm = Double(sum).squareRoot()
            let factor = maxNorm / (Float(norm) + 1e-6)
            let expected: Float = factor < 1 ? factor : 1
            #expect(try backend.floats(coefficient)[0].bitPattern == expected.bitPattern, "Σg² \(sum), maxNorm \(maxNorm)")
        }
    }

    @Test func scaleByADeviceScalarEqualsScaleByItsValue() throws {
        var random = SeededGenerator(seed: 9)
        let values = random.values(5_003).map(Float.init)
        for factor in [Float(0.37), 1, 0, -2.5] {
            let x = try backend.tensor(values, shape: [5_003]), expected = try backend.empty([5_003])
            try backend.scale(x, by: factor, into: expected)
            let out = try backend.empty([5_003])
            try backend.scale(x, byDeviceScalar: try backend.tensor([factor], shape: [1]), into: out)
            #expect(try backend.floats(out).map(\.bitPattern) == backend.floats(expected).map(\.bitPattern), "× \(factor)")
            // In place, as gradient clipping uses it.
            try backend.scale(x, byDeviceScalar: try backend.tensor([factor], shape: [1]), into: x)
            #expect(try backend.floats(x).map(\.bitPattern) == backend.floats(expected).map(\.bitPattern),
                    "× \(factor) in place")
        }
    }

    @Test func stepScalarOpsRefuseBadArgumentsWithTheSharedMessages() throws {
        let x = try backend.zeros([4]), one = try backend.zeros([1])
        func message(_ body: () throws -> Void) -> String {
            (#expect(throws: TensorError.self) { try body() })?.description ?? ""
        }
        #expect(message { try backend.scale(x, byDeviceScalar: try backend.zeros([2]), into: x) }
            .contains("scaleByDeviceScalar factor: expected shape [1], got [2]"))
        #expect(message { try backend.scale(x, byDeviceScalar: one, into: try backend.zeros([3])) }
            .contains("scaleByDeviceScalar out: expected shape 4 elements"))
        #expect(message { try backend.clipCoefficient(sumOfSquares: x, maxNorm: 1, into: one) }
            .contains("clipCoefficient sumOfSquares: expected shape [1], got [4]"))
        #expect(message { try backend.clipCoefficient(sumOfSquares: one, maxNorm: -1, into: one) }
            .contains("clipCoefficient: maxNorm -1.0 must be finite and ≥ 0"))
        #expect(message { try backend.adamW(parameter: x, gradient: x, firstMoment: x, secondMoment: x, scalars: x) }
            .contains("adamW scalars: expected shape [7], got [4]"))
        #expect(message {
            try backend.adamW(parameter: x, gradient: x, firstMoment: x, secondMoment: x,
                              scalars: try backend.zeros([7], dtype: .f64))
        }.contains("adamW scalars: expected dtype f32, got f64"))
    }
}
