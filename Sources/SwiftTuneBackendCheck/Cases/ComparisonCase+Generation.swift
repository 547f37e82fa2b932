import SwiftTuneTensor

extension ComparisonCase {
    /// The paged KV cache ops on one step that mixes prefill and decode: 3 sequences (a 13-token prompt
    /// with nothing cached, one decode token after 19 cached, 4 new after 5 cached), Hq = 6, Hkv = 2, hd = 12,
    /// blocks of 4 scattered over a pool of 16 (block tables not in order), with and without a window of 5.
    static func generationCases(seed: UInt64) -> [ComparisonCase] {
        var random = SeededGenerator(seed: seed)
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &random) } }
        let (hq, hkv, hd, blockSize, blocks) = (6, 2, 12, 4, 16)
        let newTokens = [13, 1, 4], contexts = [13, 20, 9]
        let n = newTokens.reduce(0, +)
        var queryStarts: [Int32] = [0]
        for count in newTokens { queryStarts.append(queryStarts.last! + Int32(count)) }
        // Blocks handed out in a shuffled order, so a table is never 0, 1, 2, …
        var pool = Array(0..<Int32(blocks))
        pool.shuffle(using: &random)
        let maxBlocks = contexts.map { ($0 + blockSize - 1) / blockSize }.max() ?? 1
        var tables = [Int32](repeating: 0, count: contexts.count * maxBlocks)
        for (s, length) in contexts.enumerated() {
            for b in 0..<((length + blockSize - 1) / blockSize) { tables[s * maxBlocks + b] = pool.removeLast() }
        }
        func slot(_ s: Int, _ position: Int) -> Int32 {
            tables[s * maxBlocks + position / blockSize] * Int32(blockSize) + Int32(position % blockSize)
        }
        // The cache starts with random contents (the cached prefixes); the op under test writes the new tokens.
        let rowWidth = hkv * hd
        let cacheKeys = values(blocks * blockSize * rowWidth), cacheValues = values(blocks * blockSize * rowWidth)
        var newSlots: [Int32] = []
        for (s, length) in contexts.enumerated() {
            for position in (length - newTokens[s])..<length { newSlots.append(slot(s, position)) }
        }
        let newKeys = values(n * rowWidth), newValues = values(n * rowWidth), query = values(n * hq * hd)
        // A skipped row (slot −1) must leave its old cache contents alone.
        var skippedSlots = newSlots
        skippedSlots[5] = -1
        let cacheShape = [blocks, blockSize, hkv, hd]

        func writeAndAttend(_ backend: any Backend, slots: [Int32], window: Int?) throws -> (Tensor, Tensor, Tensor) {
            let keyCache = try backend.tensor(cacheKeys, shape: cacheShape)
            let valueCache = try backend.tensor(cacheValues, shape: cacheShape)
            try backend.writeKeyValueCache(key: try backend.tensor(newKeys, shape: [n, hkv, hd]),
                                           value: try backend.tensor(newValues, shape: [n, hkv, hd]),
                                           slots: try backend.tensor(slots, shape: [n]),
                                           keyCache: keyCache, valueCache: valueCache)
            let out = try backend.empty([n, hq, hd])
            try backend.pagedAttention(
                query: try backend.tensor(query, shape: [n, hq, hd]), keyCache: keyCache, valueCache: valueCache,
                blockTables: try backend.tensor(tables, shape: [contexts.count, maxBlocks]),
                contextLengths: try backend.tensor(contexts.map(Int32.init), shape: [contexts.count]),
                queryStarts: try backend.tensor(queryStarts, shape: [queryStarts.count]),
                slidingWindow: window, scale: 1 / Float(hd).squareRoot(), into: out)
            return (keyCache, valueCache, out)
        }

        var cases = [ComparisonCase(op: "writeKeyValueCache", variant: "18 rows, one skipped (-1)",
                                    tolerance: .exact) { backend in
            let (keyCache, valueCache, _) = try writeAndAttend(backend, slots: skippedSlots, window: nil)
            return [("keyCache", try backend.floats(keyCache)), ("valueCache", try backend.floats(valueCache))]
        }]
        for window in [nil, 5] as [Int?] {
            let name = "prefill+decode, blocks of 4" + (window.map { ", window \($0)" } ?? "")
            cases.append(ComparisonCase(op: "pagedAttention", variant: name,
                                        tolerance: ComparisonTolerance(absolute: 2e-5, relative: 1e-4)) { backend in
                let (_, _, out) = try writeAndAttend(backend, slots: newSlots, window: window)
                return [("out", try backend.floats(out))]
            })
        }
        return cases
    }
}
