import Testing
@testable import SwiftTuneCPU
import SwiftTuneQuantization
import SwiftTuneTensor

/// One operand of a bf16 storage case: an activation (stored in the dtype under test), an f32-only tensor
/// (statistics, f32 accumulators, scalars), i32 indices, or raw bytes.
struct StorageOperand: Sendable {
    enum Role: Sendable { case storage, float, ids, bytes }
    let role: Role
    let shape: [Int]
    let values: [Float]

    static func storage(_ shape: [Int], _ random: inout SeededGenerator, in range: ClosedRange<Double> = -2...2)
        -> StorageOperand {
        StorageOperand(role: .storage, shape: shape,
                       values: random.values(shape.reduce(1, *), in: range).map { Float($0) })
    }

    static func float(_ shape: [Int], _ values: [Float]) -> StorageOperand {
        StorageOperand(role: .float, shape: shape, values: values)
    }

    static func float(_ shape: [Int], _ random: inout SeededGenerator) -> StorageOperand {
        .float(shape, random.values(shape.reduce(1, *)).map { Float($0) })
    }

    static func ids(_ values: [Int]) -> StorageOperand {
        StorageOperand(role: .ids, shape: [values.count], values: values.map { Float($0) })
    }
}

/// An op run twice, on f32 and on bf16 storage: `outputs` are the operands it writes.
struct StorageCase: Sendable, CustomStringConvertible {
    let name: String
    let operands: [StorageOperand]
    let outputs: [Int]
    let run: @Sendable (any Backend, [Tensor]) throws -> Void
    var description: String { name }
}

/// bf16 storage on the CPU: every op on bf16 tensors gives `round_bf16(f32 op(bf16-rounded inputs))` bit for bit
/// (f32 statistics and f32 accumulators bit for bit the f32 op's), and mixed storage dtypes are refused by argument.
@Suite("bf16 storage")
struct BF16StorageTests {
    let backend = protocolBackend()

    @Test(arguments: BF16StorageCases.all)
    func bf16OpIsRoundedF32Op(_ testCase: StorageCase) throws {
        // Activations are bf16-rounded first, so both runs read the same values.
        func tensors(_ dtype: DType) throws -> [Tensor] {
            try testCase.operands.map { operand in
                switch operand.role {
                case .storage:
                    let rounded = operand.values.map { FloatBits.float(fromBF16: FloatBits.bf16(from: $0)) }
                    return try backend.tensor(rounded, shape: operand.shape, dtype: dtype)
                case .float: return try backend.tensor(operand.values, shape: operand.shape)
                case .ids: return try backend.tensor(operand.values.map { Int32($0) }, shape: operand.shape)
                case .bytes:
                    return try operand.values.map { UInt8($0) }.withUnsafeBytes {
                        try backend.tensor(bytes: $0, shape: operand.shape, dtype: .u8)
                    }
                }
            }
        }
        let reference = try tensors(.f32), stored = try tensors(.bf16)
        try testCase.run(backend, reference)
        try testCase.run(backend, stored)
        for index in testCase.outputs {
            let operand = testCase.operands[index]
            let (expected, actual) = (try backend.floats(reference[index]), try backend.floats(stored[index]))
            #expect(stored[index].dtype == (operand.role == .storage ? .bf16 : .f32))
            let rounded = operand.role == .storage
                ? expected.map { FloatBits.float(fromBF16: FloatBits.bf16(from: $0)) } : expected
            let mismatch = zip(rounded, actual).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }
            #expect(mismatch == nil, """
                \(testCase.name) operand \(index): element \(mismatch?.offset ?? -1) is \
                \(mismatch.map { "\($0.element.1)" } ?? ""), round_bf16(f32 op) is \
                \(mismatch.map { "\($0.element.0)" } ?? ""); first \(actual.prefix(4)) vs \(rounded.prefix(4))
                """)
            #expect(actual.contains { $0 != 0 }, "\(testCase.name) operand \(index) is all zero: the check proves nothing")
        }
    }

    @Test func bf16ProductAccumulatesIntoF32() throws {
        // bf16 terms added into an f32 accumulator keep f32's resolution; a bf16 accumulator (spacing 2⁻⁷ near 1)
        // drops every update below half its spacing.
        let k = 64
        let a = try backend.tensor([Float](repeating: 1, count: k), shape: [1, k], dtype: .bf16)
        let b = try backend.tensor([Float](repeating: 1.0 / 4096, count: k), shape: [k, 1], dtype: .bf16)
        let c32 = try backend.tensor([Float(1)], shape: [1, 1])
        try backend.matmul(a, b, into: c32, transposeA: false, transposeB: false, alpha: 1, beta: 1)
        #expect(try backend.floats(c32) == [1.015625])
        for _ in 0..<3 { try backend.matmul(a, b, into: c32, transposeA: false, transposeB: false, alpha: 1, beta: 1) }
        #expect(try backend.floats(c32) == [1.0625])
        let c16 = try backend.tensor([Float(1)], shape: [1, 1], dtype: .bf16)
        try backend.matmul(a, b, into: c16, transposeA: false, transposeB: false, alpha: 1, beta: 1)
        #expect(try backend.floats(c16) == [1.015625])  // 1.015625 is representable in bf16 (1 + 2⁻⁶)
        let tiny = try backend.tensor([Float](repeating: 1.0 / 65536, count: k), shape: [k, 1], dtype: .bf16)
        for _ in 0..<4 { try backend.matmul(a, tiny, into: c16, transposeA: false, transposeB: false, alpha: 1, beta: 1) }
        // Each bf16 update of 2⁻¹⁰ on 1.015625 rounds away; in f32 the four would add 2⁻⁸.
        #expect(try backend.floats(c16) == [1.015625])
        for _ in 0..<4 { try backend.matmul(a, tiny, into: c32, transposeA: false, transposeB: false, alpha: 1, beta: 1) }
        #expect(try backend.floats(c32) == [1.06640625])
    }

    @Test func mixedStorageIsRefusedByArgument() throws {
        let f32 = try backend.zeros([2, 4]), bf16 = try backend.zeros([2, 4], dtype: .bf16)
        func refused(_ fragments: [String], _ body: () throws -> Void) {
            let error = #expect(throws: TensorError.self) { try body() }
            for fragment in fragments {
                #expect(error?.description.contains(fragment) == true, "\(error?.description ?? "no error") lacks \(fragment)")
            }
        }
        refused(["add b", "expected dtype f32", "got bf16"]) { try backend.add(f32, bf16, scale: 1, into: f32) }
        refused(["add out", "expected dtype bf16", "got f32"]) { try backend.add(bf16, bf16, scale: 1, into: f32) }
        refused(["matmul b", "bf16", "f32"]) {
            try backend.matmul(bf16, f32, into: try backend.zeros([2, 2]), transposeA: false, transposeB: true,
                               alpha: 1, beta: 0)
        }
        refused(["matmul c", "f32 or bf16", "f16"]) {
            try backend.matmul(bf16, bf16, into: try backend.zeros([2, 2], dtype: .f16), transposeA: false,
                               transposeB: true, alpha: 1, beta: 0)
        }
        refused(["matmul c", "expected dtype f32", "bf16"]) {
            try backend.matmul(f32, f32, into: try backend.zeros([2, 2], dtype: .bf16), transposeA: false,
                               transposeB: true, alpha: 1, beta: 0)
        }
        refused(["rmsNorm weight", "bf16", "f32"]) {
            try backend.rmsNorm(bf16, weight: try backend.zeros([4]), epsilon: 1e-5, into: bf16, inverseRMS: nil)
        }
        refused(["rmsNorm inverseRMS", "f32", "bf16"]) {
            try backend.rmsNorm(bf16, weight: try backend.zeros([4], dtype: .bf16), epsilon: 1e-5, into: bf16,
                                inverseRMS: try backend.zeros([2], dtype: .bf16))
        }
        refused(["crossEntropy logits", "f32", "bf16"]) {
            try backend.crossEntropy(logits: bf16, targets: try backend.tensor([0, 1] as [Int32], shape: [2]),
                                     gradientScale: nil, stats: try backend.zeros([3]), logProbabilities: nil)
        }
        refused(["adamW parameter", "f32", "bf16"]) {
            try backend.adamW(parameter: bf16, gradient: f32, firstMoment: f32, secondMoment: f32,
                              learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, step: 1)
        }
        refused(["swiglu gate", "f32 or bf16", "f16"]) {
            let half = try backend.zeros([2, 4], dtype: .f16)
            try backend.swiglu(gate: half, up: half, into: half)
        }
    }

    @Test func cpuSupportsBF16StorageWithF32Masters() {
        #expect(backend.supports(.f32))
        #expect(backend.supports(.bf16))
        #expect(!backend.supports(Precision(compute: .f16)))
        #expect(!backend.supports(Precision(compute: .bf16, master: .bf16)))
    }
}
