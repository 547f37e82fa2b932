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

    /// `quantize4Bit` (QLoRA's quantize-while-loading) on random weights with an all-zero block and a block holding
    /// one large outlier: NF4 over 600 × 700 (6,563 blocks, a short last one), FP4 over 7 × 300, NF4 over an odd 5 × 13,
    /// from bf16 and f32 values; then `FourBitWeightTensors.quantize` with double quantization, dequantized. Codes and
    /// absmax must equal the CPU reference bit for bit.
    static func quantizeCases(seed: UInt64) -> [ComparisonCase] {
        var random = SeededGenerator(seed: seed)
        func normal(_ count: Int) -> [Float] {
            var values = (0..<count).map { _ in
                let u1 = max(Double.random(in: 0..<1, using: &random), 1e-12), u2 = Double.random(in: 0..<1, using: &random)
                return Float(0.02 * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
            }
            for i in 0..<min(64, count) { values[i] = 0 }
            if count > 100 { values[100] = 3 }
            return values
        }
        let shapes: [(type: FourBitQuantType, shape: [Int])] = [(.nf4, [600, 700]), (.fp4, [7, 300]), (.nf4, [5, 13])]
        var cases: [ComparisonCase] = []
        for (type, shape) in shapes {
            let values = normal(shape.reduce(1, *)), n = values.count
            for dtype in [DType.bf16, .f32] {
                let variant = "\(type) \(shape.map(String.init).joined(separator: " × ")) from \(dtype)"
                cases.append(ComparisonCase(op: "quantize4Bit", variant: variant, tolerance: .exact) { backend in
                    let x = try backend.tensor(values, shape: shape, dtype: dtype)
                    let packed = try backend.empty([(n + 1) / 2], dtype: .u8)
                    let absmax = try backend.empty([(n + 63) / 64], dtype: .f32)
                    try backend.quantize4Bit(x, quantType: type, blockSize: 64, packed: packed, absmax: absmax)
                    return [(name: "packed", values: try backend.bytes(packed).map(Float.init)),
                            (name: "absmax", values: try backend.floats(absmax))]
                })
                cases.append(ComparisonCase(op: "quantize4Bit", variant: variant + ", double-quant, decoded",
                                            tolerance: .exact) { backend in
                    let x = try backend.tensor(values, shape: shape, dtype: dtype)
                    let tensors = try FourBitWeightTensors.quantize(x, FourBitQuantization(quantType: type), name: "w")
                    let out = try backend.empty(shape, dtype: dtype)
                    try backend.dequantize4Bit(tensors, into: out)
                    return [(name: "out", values: try backend.floats(out))]
                })
            }
        }
        return cases
    }
}
