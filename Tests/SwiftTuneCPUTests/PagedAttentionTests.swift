import Testing
@testable import SwiftTuneCPU
import SwiftTuneTensor

/// One paged attention problem: whole sequences of `lengths` tokens, of which the last `newTokens` are the step's
/// queries (the rest is the cached prefix), in blocks of `blockSize` scattered over a pool.
struct PagedCase: CustomStringConvertible, Sendable {
    var lengths: [Int]
    var newTokens: [Int]
    var queryHeads: Int
    var kvHeads: Int
    var headDim: Int
    var blockSize: Int
    var window: Int?

    var description: String {
        "lengths \(lengths), new \(newTokens), \(queryHeads)/\(kvHeads) heads, blocks of \(blockSize)"
            + (window.map { ", window \($0)" } ?? "")
    }
}

/// `pagedAttention` against the packed `attention` op on the same whole sequences: the step's rows must be those
/// rows of the packed result, for prefill, chunked prefill and decode in one call. Both kernels run the same
/// arithmetic in the same order, so the rows agree bit for bit.
@Suite("Paged KV cache ops vs packed attention")
struct PagedAttentionTests {
    static let cases: [PagedCase] = [
        PagedCase(lengths: [7, 9, 5], newTokens: [7, 1, 3], queryHeads: 6, kvHeads: 2, headDim: 8, blockSize: 4, window: nil),
        PagedCase(lengths: [12, 1, 20], newTokens: [1, 1, 20], queryHeads: 4, kvHeads: 1, headDim: 6, blockSize: 16, window: 5),
        PagedCase(lengths: [6, 11], newTokens: [2, 11], queryHeads: 3, kvHeads: 3, headDim: 4, blockSize: 1, window: 3),
        PagedCase(lengths: [33], newTokens: [1], queryHeads: 4, kvHeads: 2, headDim: 16, blockSize: 8, window: 50),
    ]

    @Test(arguments: cases)
    func stepRowsEqualPackedAttention(_ problem: PagedCase) throws {
        let backend = protocolBackend()
        var random = SeededGenerator(seed: 31)
        let (hq, hkv, hd, b) = (problem.queryHeads, problem.kvHeads, problem.headDim, problem.blockSize)
        let total = problem.lengths.reduce(0, +)
        let query = random.values(total * hq * hd, in: -2...2)
        let key = random.values(total * hkv * hd, in: -2...2), value = random.values(total * hkv * hd)
        var starts = [0]
        for length in problem.lengths { starts.append(starts.last! + length) }
        let scale = 1 / Float(hd).squareRoot()

        let packed = try backend.empty([total, hq, hd])
        try backend.attention(query: try backend.f32(query, [total, hq, hd]), key: try backend.f32(key, [total, hkv, hd]),
                              value: try backend.f32(value, [total, hkv, hd]),
                              sequenceStarts: try backend.i32(starts, [starts.count]), slidingWindow: problem.window,
                              scale: scale, into: packed, logSumExp: nil)
        let expectedAll = try backend.floats(packed)

        // Blocks handed out from a shuffled pool with spare blocks, so tables are neither in order nor dense.
        let blocksPer = problem.lengths.map { ($0 + b - 1) / b }
        var pool = Array(0..<(blocksPer.reduce(0, +) + 3))
        pool.shuffle(using: &random)
        let tables = blocksPer.map { count in (0..<count).map { _ in pool.removeLast() } }
        let blockCount = tables.flatMap { $0 }.max()! + 4
        let keyCache = try backend.zeros([blockCount, b, hkv, hd]), valueCache = try backend.zeros([blockCount, b, hkv, hd])
        func slot(_ s: Int, _ p: Int) -> Int { tables[s][p / b] * b + p % b }
        func rows(_ values: [Double], _ tokens: [Int], width: Int) -> [Double] {
            tokens.flatMap { values[($0 * width)..<(($0 + 1) * width)] }
        }
        func write(_ tokens: [(s: Int, p: Int)]) throws {
            guard !tokens.isEmpty else { return }
            let flat = tokens.map { starts[$0.s] + $0.p }
            try backend.writeKeyValueCache(key: try backend.f32(rows(key, flat, width: hkv * hd), [flat.count, hkv, hd]),
                                           value: try backend.f32(rows(value, flat, width: hkv * hd), [flat.count, hkv, hd]),
                                           slots: try backend.i32(tokens.map { slot($0.s, $0.p) }, [flat.count]),
                                           keyCache: keyCache, valueCache: valueCache)
        }
        // Earlier steps wrote the prefixes; this step writes the new tokens, then attends.
        var prefix: [(s: Int, p: Int)] = [], step: [(s: Int, p: Int)] = []
        for (s, length) in problem.lengths.enumerated() {
            let cached = length - problem.newTokens[s]
            prefix += (0..<cached).map { (s, $0) }
            step += (cached..<length).map { (s, $0) }
        }
        try write(prefix)
        try write(step)
        let maxBlocks = blocksPer.max()!
        let flatTables = tables.flatMap { $0 + Array(repeating: 0, count: maxBlocks - $0.count) }
        var queryStarts = [0]
        for count in problem.newTokens { queryStarts.append(queryStarts.last! + count) }
        let stepRows = step.map { starts[$0.s] + $0.p }
        let out = try backend.empty([stepRows.count, hq, hd])
        try backend.pagedAttention(
            query: try backend.f32(rows(query, stepRows, width: hq * hd), [stepRows.count, hq, hd]),
            keyCache: keyCache, valueCache: valueCache,
            blockTables: try backend.i32(flatTables, [problem.lengths.count, maxBlocks]),
            contextLengths: try backend.i32(problem.lengths, [problem.lengths.count]),
            queryStarts: try backend.i32(queryStarts, [queryStarts.count]), slidingWindow: problem.window, scale: scale,
            into: out)
        let expected = stepRows.flatMap { expectedAll[($0 * hq * hd)..<(($0 + 1) * hq * hd)] }
        let actual = try backend.floats(out)
        #expect(actual == expected, "\(problem): max abs diff \(zip(actual, expected).map { abs($0 - $1) }.max() ?? -1)")
    }

    @Test func writeSkipsNegativeSlotsAndLeavesOtherSlotsAlone() throws {
        let backend = protocolBackend()
        let keyCache = try backend.tensor([Float](repeating: 7, count: 4 * 2 * 1 * 2), shape: [4, 2, 1, 2])
        let valueCache = try backend.zeros([4, 2, 1, 2])
        try backend.writeKeyValueCache(key: try backend.tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [3, 1, 2]),
                                       value: try backend.tensor([-1, -2, -3, -4, -5, -6] as [Float], shape: [3, 1, 2]),
                                       slots: try backend.tensor([5, -1, 0] as [Int32], shape: [3]),
                                       keyCache: keyCache, valueCache: valueCache)
        let keys = try backend.floats(keyCache), values = try backend.floats(valueCache)
        #expect(Array(keys[0..<2]) == [5, 6] && Array(keys[10..<12]) == [1, 2])
        #expect(keys.enumerated().filter { ![0, 1, 10, 11].contains($0.offset) }.allSatisfy { $0.element == 7 })
        #expect(Array(values[0..<2]) == [-5, -6] && Array(values[10..<12]) == [-1, -2])
    }

    @Test func badIndicesThrowBeforeAnyKernelRuns() throws {
        let backend = protocolBackend()
        let cache = try backend.zeros([2, 4, 1, 2])
        let key = try backend.zeros([2, 1, 2])
        #expect(throws: TensorError.self) {  // slot 8 is past 2 blocks × 4
            try backend.writeKeyValueCache(key: key, value: key, slots: try backend.tensor([0, 8] as [Int32], shape: [2]),
                                           keyCache: cache, valueCache: cache)
        }
        #expect(throws: TensorError.self) {  // the same slot twice
            try backend.writeKeyValueCache(key: key, value: key, slots: try backend.tensor([3, 3] as [Int32], shape: [2]),
                                           keyCache: cache, valueCache: cache)
        }
        func attend(tables: [Int32], lengths: [Int32]) throws {
            try backend.pagedAttention(query: try backend.zeros([2, 2, 2]), keyCache: cache, valueCache: cache,
                                       blockTables: try backend.tensor(tables, shape: [1, 2]),
                                       contextLengths: try backend.tensor(lengths, shape: [1]),
                                       queryStarts: try backend.tensor([0, 2] as [Int32], shape: [2]),
                                       slidingWindow: nil, scale: 1, into: try backend.empty([2, 2, 2]))
        }
        try attend(tables: [1, 0], lengths: [6])
        #expect(throws: TensorError.self) { try attend(tables: [1, 5], lengths: [6]) }  // block 5 of 2
        #expect(throws: TensorError.self) { try attend(tables: [1, 0], lengths: [1]) }  // 2 new tokens, context 1
        #expect(throws: TensorError.self) { try attend(tables: [1, 0], lengths: [9]) }  // more than 2 blocks hold
    }
}
