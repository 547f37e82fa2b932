import SwiftTuneQuantization
import Foundation
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneTensor
import Testing

/// Dequantization against gguf-py 0.19.0 (scripts/golden/make_gguf_goldens.py). Every supported type is compared
/// bit for bit: each formula is evaluated in the reference's order in f32 (F16/BF16 widen exactly), so no ulp of
/// slack is needed.
@Suite struct GGUFDequantizationTests {
    static let fixture = GGUFFixtures.directory.appendingPathComponent("quants.gguf")
    static let expected = GGUFFixtures.directory.appendingPathComponent("quants_expected.safetensors")

    /// The f32 values of tensor `name` of a safetensors golden.
    static func values(_ file: SafetensorsFile, _ name: String) throws -> [Float] {
        try file.withBytes(name) { bytes in
            (0..<bytes.count / 4).map { Float(bitPattern: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
        }
    }

    /// Records the first differing bits with their index, or nothing when `actual` and `expected` are identical.
    static func expectBitIdentical(_ actual: [Float], _ expected: [Float], _ label: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        guard actual.count == expected.count else {
            Issue.record("\(label): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
            return
        }
        let differing = actual.indices.filter { actual[$0].bitPattern != expected[$0].bitPattern }
        if let first = differing.first {
            Issue.record("""
                \(label): \(differing.count) of \(actual.count) values differ; first at \(first): got \(actual[first]) \
                (0x\(String(actual[first].bitPattern, radix: 16))), expected \(expected[first]) \
                (0x\(String(expected[first].bitPattern, radix: 16)))
                """, sourceLocation: sourceLocation)
        }
    }

    @Test func everyTypeMatchesGGUFPyBitForBit() throws {
        let file = try GGUFFile(url: Self.fixture)
        let golden = try SafetensorsFile(url: Self.expected)
        #expect(Set(golden.names) == Set(file.names))
        let types = Set(file.tensors.map(\.type))
        #expect(types == Set(GGMLType.dequantizable), "the fixture should hold every dequantizable type")
        for name in golden.names {
            let info = try file.info(name)
            #expect(info.shape == (try golden.info(name).shape), "\(name): shape")
            Self.expectBitIdentical(try file.floats(name), try Self.values(golden, name), "\(name) (\(info.type))")
        }
    }

    @Test func rowRangesAndBackendTensors() throws {
        let file = try GGUFFile(url: Self.fixture)
        let golden = try SafetensorsFile(url: Self.expected)
        let backend = CPUBackend()
        for name in ["q4_k.weight", "q6_k.weight", "q5_0.weight", "f32.weight"] {
            let info = try file.info(name), all = try Self.values(golden, name)
            let rows = 1..<info.rowCount
            Self.expectBitIdentical(try file.floats(name, rows: rows), Array(all[info.rowLength...]), "\(name) rows \(rows)")
            let f32 = try file.tensor(name, on: backend)
            #expect(f32.shape == info.shape && f32.dtype == .f32)
            Self.expectBitIdentical(try backend.floats(f32), all, "\(name) as f32 tensor")
            let bf16 = try file.tensor(name, on: backend, as: .bf16)
            #expect(bf16.dtype == .bf16)
            Self.expectBitIdentical(try backend.floats(bf16), all.map { FloatBits.float(fromBF16: FloatBits.bf16(from: $0)) },
                                    "\(name) as bf16 tensor")
        }
        let outside = checkpointError { _ = try file.floats("q4_k.weight", rows: 2..<4) }
        expectMessage(outside, mentions: ["q4_k.weight", "outside the tensor's 3 rows"])
    }

    /// Rows of the real SmolLM2 GGUF (Q8_0 embeddings, Q4_1 layers, F32 norms) against gguf-py, and q/k rows in
    /// HF order against NumPy's reshape-and-swap inverse of the converter's permutation.
    @Test func smolLM2RowsMatchGGUFPy() throws {
        let file = try GGUFFixtures.smolLM2File()
        let golden = try SafetensorsFile(url: GGUFFixtures.directory.appendingPathComponent("smollm2_rows.safetensors"))
        let weights = try GGUFWeights(file: file)
        #expect(weights.restoresRotaryRowOrder)
        #expect(golden.names.count == 6)
        for name in golden.names {
            let bounds = try #require(golden.metadata?["rows." + name]).split(separator: ":").compactMap { Int($0) }
            let rows = bounds[0]..<bounds[1]
            let expected = try Self.values(golden, name)
            if file.contains(name) {
                Self.expectBitIdentical(try file.floats(name, rows: rows), expected, "\(name) rows \(rows)")
            } else {
                let gguf = try weights.ggufName(for: name)
                let rowLength = try file.info(gguf).rowLength
                let all = try weights.floats(name)
                Self.expectBitIdentical(Array(all[rows.lowerBound * rowLength ..< rows.upperBound * rowLength]), expected,
                                        "\(name) (HF order) rows \(rows)")
            }
        }
    }
}
