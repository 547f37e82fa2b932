import SwiftTuneQuantization
import Foundation
@testable import SwiftTuneCheckpoint
import Testing

/// GGMLQuantizer against goldens from gguf-py 0.19.0's quantizers (F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0) and ggml's own
/// `ggml_quantize_chunk` (Q4_K, Q6_K), made by scripts/golden/make_quant_goldens.py, and round-tripped through
/// swift-tune's dequantizer.
@Suite struct QuantizerGoldenTests {
    static let file = ExportFixtures.export.appendingPathComponent("quant_goldens.gguf")

    @Test(arguments: [GGMLType.f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q4K, .q6K])
    func bitIdenticalToReference(_ type: GGMLType) throws {
        try #require(FileManager.default.fileExists(atPath: Self.file.path),
                     "\(Self.file.path) is missing: run python3 scripts/golden/make_quant_goldens.py and commit it")
        let goldens = try GGUFFile(url: Self.file)
        let input = try goldens.floats("input")
        let rowLength = try goldens.info("input").rowLength
        let ours = try GGMLQuantizer.quantize(input, rowLength: rowLength, as: type)
        let expected = try goldens.withBytes(type.name) { Array($0) }
        #expect(ours.count == expected.count)
        if let first = zip(ours, expected).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            let block = first.offset / type.typeSize
            Issue.record("""
                \(type): byte \(first.offset) differs (ours \(first.element.0), reference \(first.element.1)); block \(block) \
                (row \(block / (rowLength / type.blockSize))), \(zip(ours, expected).filter { $0 != $1 }.count) bytes differ
                """)
        }
        // Round trip: our blocks dequantize to what gguf-py makes of the reference blocks.
        var roundTrip = [Float](repeating: 0, count: input.count)
        ours.withUnsafeBytes { bytes in
            roundTrip.withUnsafeMutableBufferPointer { out in
                GGMLDequantizer.dequantize(type, source: bytes.baseAddress!, rows: input.count / rowLength, rowLength: rowLength,
                                           into: out.baseAddress!)
            }
        }
        let reference = try goldens.floats(type.name + ".dequantized")
        #expect(roundTrip.map(\.bitPattern) == reference.map(\.bitPattern), "\(type): dequantized values differ")
    }

    @Test func refusesNonFiniteValuesAndPartialBlocks() throws {
        #expect(throws: QuantizationError.self) { try GGMLQuantizer.quantize([1, .nan] + Array(repeating: 0, count: 30), rowLength: 32, as: .q8_0) }
        #expect(throws: QuantizationError.self) { try GGMLQuantizer.quantize(Array(repeating: 1, count: 64), rowLength: 64, as: .q4K) }
        #expect(throws: QuantizationError.self) { try GGMLQuantizer.quantize(Array(repeating: 1, count: 32), rowLength: 32, as: .q2K) }
    }
}
