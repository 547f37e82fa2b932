import Foundation
import SwiftTuneQuantization
import SwiftTuneTensor
import Testing

/// The two ops the objective and weight-kind seams added: per-token gradient weights in `crossEntropy`, and
/// `dequantize` of block-format weights.
@Suite struct WeightedLossAndBlockTests {
    /// Row n of the weighted gradient is the unweighted op's row with scale `gradientScale · w_n`, bit for bit;
    /// statistics and log-probabilities do not depend on the weights.
    @Test func tokenWeightsScaleEachRowOfTheGradient() throws {
        let backend = protocolBackend(threadCount: 3)
        var random = SeededGenerator(seed: 91)
        let (rows, vocabulary, gradientScale) = (37, 301, Float(0.05))
        let logits = random.values(rows * vocabulary, in: -6...6)
        var targets = random.integers(rows, in: 0..<vocabulary)
        targets[4] = -100
        let weights = random.values(rows, in: -2...2).map { Float($0) }
        let weighted = try backend.f32(logits, [rows, vocabulary])
        let stats = try backend.zeros([3]), logProbabilities = try backend.empty([rows])
        try backend.crossEntropy(logits: weighted, targets: try backend.i32(targets, [rows]), gradientScale: gradientScale,
                                 tokenWeights: try backend.tensor(weights, shape: [rows]), stats: stats,
                                 logProbabilities: logProbabilities)
        let unweightedStats = try backend.zeros([3]), unweightedLogProbabilities = try backend.empty([rows])
        try backend.crossEntropy(logits: try backend.f32(logits, [rows, vocabulary]), targets: try backend.i32(targets, [rows]),
                                 gradientScale: nil, stats: unweightedStats, logProbabilities: unweightedLogProbabilities)
        #expect(try backend.floats(stats) == backend.floats(unweightedStats))
        #expect(try backend.floats(logProbabilities) == backend.floats(unweightedLogProbabilities))
        let gradient = try backend.floats(weighted)
        for row in 0..<rows {
            let single = try backend.f32(Array(logits[row * vocabulary ..< (row + 1) * vocabulary]), [1, vocabulary])
            try backend.crossEntropy(logits: single, targets: try backend.i32([targets[row]], [1]),
                                     gradientScale: gradientScale * weights[row], stats: try backend.zeros([3]),
                                     logProbabilities: nil)
            let expected = try backend.floats(single)
            let actual = Array(gradient[row * vocabulary ..< (row + 1) * vocabulary])
            #expect(actual == expected, "row \(row) (weight \(weights[row]), target \(targets[row]))")
        }
    }

    @Test func tokenWeightsOfTheWrongShapeAreRefused() throws {
        let backend = protocolBackend()
        let logits = try backend.zeros([2, 3])
        #expect(throws: TensorError.self) {
            try backend.crossEntropy(logits: logits, targets: try backend.i32([0, 1], [2]), gradientScale: 1,
                                     tokenWeights: try backend.zeros([3]), stats: try backend.zeros([3]),
                                     logProbabilities: nil)
        }
    }

    /// The backend's `dequantize` equals the host reference (`BlockFormat.decode`) for every decodable GGML type,
    /// from blocks written by the reference quantizer where it writes the type, else from random bytes with valid
    /// scales.
    @Test func dequantizeMatchesTheReferenceForEveryFormat() throws {
        let backend = protocolBackend()
        var random = SeededGenerator(seed: 92)
        for format in BlockFormat.decodable {
            guard case let .ggml(type) = format else { continue }
            let (rows, columns) = (3, 2 * type.blockSize == 2 ? 8 : 2 * type.blockSize)
            let values = random.values(rows * columns, in: -3...3).map { Float($0) }
            let bytes: [UInt8] = GGMLQuantizer.quantizable.contains(type)
                ? try GGMLQuantizer.quantize(values, rowLength: columns, as: type)
                : (0..<(rows * (type.rowByteCount(columns) ?? 0))).map { _ in UInt8.random(in: 0...0x3b, using: &random) }
            var expected = [Float](repeating: .nan, count: rows * columns)
            try bytes.withUnsafeBytes { source in
                try expected.withUnsafeMutableBufferPointer { destination in
                    try format.decode(source.baseAddress!, rows: rows, columns: columns, into: destination.baseAddress!)
                }
            }
            let blocks = try bytes.withUnsafeBytes { try backend.tensor(bytes: $0, shape: [bytes.count], dtype: .u8) }
            let out = try backend.tensor([Float](repeating: .nan, count: rows * columns), shape: [rows, columns])
            try backend.dequantize(blocks, format: format, into: out)
            let actual = try backend.floats(out)
            #expect(actual.elementsEqual(expected) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(format)")
            #expect(!actual.contains { $0.isNaN } || !GGMLQuantizer.quantizable.contains(type), "\(format) left NaN")
        }
    }

    @Test func dequantizeRefusesBlocksThatDoNotFitTheOutput() throws {
        let backend = protocolBackend()
        let blocks = try backend.zeros([33], dtype: .u8)
        #expect(throws: TensorError.self) {
            try backend.dequantize(blocks, format: .ggml(.q8_0), into: try backend.zeros([1, 32]))
        }
        #expect(throws: TensorError.self) {
            try backend.dequantize(try backend.zeros([34], dtype: .u8), format: .ggml(.q8_0), into: try backend.zeros([1, 31]))
        }
        #expect(throws: TensorError.self) {
            try backend.dequantize(try backend.zeros([34], dtype: .u8), format: .ggml(.q2K), into: try backend.zeros([1, 256]))
        }
    }
}
