import Foundation
import SwiftTuneQuantization
import SwiftTuneTensor

extension ComparisonCase {
    /// `dequantize4Bit` on random weights quantized on the host with `BitsAndBytes4Bit.quantize`: NF4 with double
    /// quantization (the QLoRA default) over 600 × 700 (420,000 values: 6,563 blocks, 26 nested scales, a short
    /// last block), NF4 and FP4 without it over 7 × 300, and an odd element count (5 × 13), into bf16 and f32. The
    /// GPU must equal the CPU reference bit for bit (every step rounds in f32 on both; no FMA).
    static func quantizationCases(seed: UInt64) -> [ComparisonCase] {
        var random = SeededGenerator(seed: seed)
        func normal(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                let u1 = max(Double.random(in: 0..<1, using: &random), 1e-12), u2 = Double.random(in: 0..<1, using: &random)
                return Float(0.02 * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
            }
        }
        let shapes: [(type: FourBitQuantType, double: Bool, shape: [Int])] = [
            (.nf4, true, [600, 700]), (.nf4, false, [7, 300]), (.fp4, false, [7, 300]), (.fp4, true, [5, 13]),
        ]
        var cases: [ComparisonCase] = []
        for (type, double, shape) in shapes {
            let values = normal(shape.reduce(1, *))
            let weight = Result { try BitsAndBytes4Bit.quantize(values, shape: shape, quantType: type,
                                                                doubleQuantization: double) }
            for dtype in [DType.bf16, .f32] {
                let variant = "\(type)\(double ? " double-quant" : "") \(shape.map(String.init).joined(separator: " × ")) → \(dtype)"
                cases.append(ComparisonCase(op: "dequantize4Bit", variant: variant, tolerance: .exact) { backend in
                    let tensors = try FourBitWeightTensors(try weight.get(), on: backend)
                    let out = try backend.empty(shape, dtype: dtype)
                    try backend.dequantize4Bit(tensors, into: out)
                    return [(name: "out", values: try backend.floats(out))]
                })
            }
        }
        return cases
    }
}
