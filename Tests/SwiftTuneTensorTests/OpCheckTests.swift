import Testing
import SwiftTuneCPU
@testable import SwiftTuneTensor

/// The shared shape checks: the sizes they derive, and that they refuse what every backend must refuse. (The CPU's
/// `ErrorTests` check the messages through the backend; the CUDA backend calls the same functions.)
@Suite("Shared op checks")
struct OpCheckTests {
    let backend: any Backend = CPUBackend(threadCount: 1)

    func zeros(_ shape: [Int], _ dtype: DType = .f32) throws -> Tensor { try backend.zeros(shape, dtype: dtype) }

    @Test func matmulSizesAndTheFoldedBatch() throws {
        let shared = try OpCheck.matmul(try zeros([3, 4, 5]), try zeros([6, 5]), c: try zeros([3, 4, 6]),
                                        transposeA: false, transposeB: true)
        #expect(shared == OpCheck.MatmulShape(m: 4, n: 6, k: 5, batch: 3, sharedB: true))
        #expect(shared.foldsBatch(transposeA: false))
        #expect(!shared.foldsBatch(transposeA: true))
        let batched = try OpCheck.matmul(try zeros([2, 5, 4]), try zeros([2, 5, 6]), c: try zeros([2, 4, 6]),
                                         transposeA: true, transposeB: false)
        #expect(batched == OpCheck.MatmulShape(m: 4, n: 6, k: 5, batch: 2, sharedB: false))
        #expect(throws: TensorError.self) {
            try OpCheck.matmul(try zeros([4, 5]), try zeros([6, 5]), c: try zeros([4, 6], .bf16), transposeA: false,
                               transposeB: true)
        }
    }

    @Test func rowViewsTakeTheLastDimensionAsColumns() throws {
        #expect(try OpCheck.rows(try zeros([2, 3, 5]), "op", "x") == OpCheck.RowShape(rows: 6, columns: 5))
        #expect(try OpCheck.rows(try zeros([7]), "op", "x") == OpCheck.RowShape(rows: 1, columns: 7))
        #expect(try OpCheck.rows(try zeros([0, 4]), "op", "x") == OpCheck.RowShape(rows: 0, columns: 4))
        #expect(throws: TensorError.self) { try OpCheck.rows(try zeros([]), "op", "x") }
    }

    @Test func attentionAndPagedAttentionSizes() throws {
        let starts = try backend.tensor([0, 3, 5] as [Int32], shape: [3])
        let size = try OpCheck.attention(query: try zeros([5, 4, 8]), key: try zeros([5, 2, 8]), value: try zeros([5, 2, 8]),
                                         sequenceStarts: starts, slidingWindow: 3, out: try zeros([5, 4, 8]),
                                         logSumExp: try zeros([5, 4]))
        #expect(size == OpCheck.AttentionShape(tokens: 5, queryHeads: 4, keyValueHeads: 2, headDim: 8, sequences: 2))
        #expect(throws: TensorError.self) {  // sequence starts must be i32
            try OpCheck.attention(query: try zeros([5, 4, 8]), key: try zeros([5, 2, 8]), value: try zeros([5, 2, 8]),
                                  sequenceStarts: try zeros([3]), slidingWindow: nil, out: try zeros([5, 4, 8]),
                                  logSumExp: nil)
        }
        let paged = try OpCheck.pagedAttention(
            query: try zeros([3, 4, 8]), keyCache: try zeros([6, 16, 2, 8]), valueCache: try zeros([6, 16, 2, 8]),
            blockTables: try backend.tensor([0, 1, 2, 3] as [Int32], shape: [2, 2]),
            contextLengths: try backend.tensor([20, 2] as [Int32], shape: [2]),
            queryStarts: try backend.tensor([0, 2, 3] as [Int32], shape: [3]), slidingWindow: nil,
            out: try zeros([3, 4, 8]))
        #expect(paged == OpCheck.PagedAttentionShape(tokens: 3, queryHeads: 4, keyValueHeads: 2, headDim: 8, blocks: 6,
                                                     blockSize: 16, maxBlocks: 2, sequences: 2))
    }

    @Test func everyOptionalOutputIsCheckedWhenGiven() throws {
        let x = try zeros([4, 6]), weight = try zeros([6])
        #expect(throws: TensorError.self) {
            try OpCheck.rmsNorm(x, weight: weight, out: x, inverseRMS: try zeros([4], .f64))
        }
        #expect(throws: TensorError.self) {
            try OpCheck.crossEntropy(logits: x, targets: try backend.tensor([0, 1, 2, 3] as [Int32], shape: [4]),
                                     stats: try zeros([3]), logProbabilities: try zeros([5]))
        }
        #expect(try OpCheck.rmsNorm(x, weight: weight, out: x, inverseRMS: nil) == OpCheck.RowShape(rows: 4, columns: 6))
    }
}
