import Foundation
import SwiftTuneQuantization
import SwiftTuneTensor

/// Every op with a bf16 form, as `StorageCase`s: accumulators both f32 (mixed, the master-gradient case) and in
/// the storage dtype, in-place forms, and the f32 statistics each op writes beside its activations.
enum BF16StorageCases {
    static var all: [StorageCase] { elementwise + products + layers + attention + generation + others }

    static var elementwise: [StorageCase] {
        var r = SeededGenerator(seed: 1201)
        let (n, c) = (37, 29)
        return [
            StorageCase(name: "add", operands: [.storage([n, c], &r), .storage([n, c], &r), .storage([n, c], &r)],
                        outputs: [2]) { b, t in try b.add(t[0], t[1], scale: 0.37, into: t[2]) },
            StorageCase(name: "add in place", operands: [.storage([n, c], &r), .storage([n, c], &r)],
                        outputs: [0]) { b, t in try b.add(t[0], t[1], scale: -1.5, into: t[0]) },
            StorageCase(name: "scale", operands: [.storage([n, c], &r), .storage([n, c], &r)],
                        outputs: [1]) { b, t in try b.scale(t[0], by: 0.3, into: t[1]) },
            StorageCase(name: "scaleByDeviceScalar", operands: [.storage([n, c], &r), .float([1], [0.71])],
                        outputs: [0]) { b, t in try b.scale(t[0], byDeviceScalar: t[1], into: t[0]) },
            StorageCase(name: "addBias", operands: [.storage([n, c], &r), .storage([c], &r), .storage([n, c], &r)],
                        outputs: [2]) { b, t in try b.addBias(t[0], bias: t[1], into: t[2]) },
            StorageCase(name: "sumRows into bf16", operands: [.storage([n, c], &r), .storage([c], &r)],
                        outputs: [1]) { b, t in try b.sumRows(t[0], into: t[1], accumulate: true) },
            StorageCase(name: "sumRows into f32", operands: [.storage([n, c], &r), .float([c], &r)],
                        outputs: [1]) { b, t in try b.sumRows(t[0], into: t[1], accumulate: true) },
            StorageCase(name: "sumRows overwrite", operands: [.storage([n, c], &r), .storage([c], &r)],
                        outputs: [1]) { b, t in try b.sumRows(t[0], into: t[1], accumulate: false) },
            StorageCase(name: "sumOfSquares", operands: [.storage([n, c], &r), .float([1], [2.5])],
                        outputs: [1]) { b, t in try b.sumOfSquares(t[0], into: t[1], accumulate: true) },
            StorageCase(name: "swiglu", operands: [.storage([n, c], &r), .storage([n, c], &r), .storage([n, c], &r)],
                        outputs: [2]) { b, t in try b.swiglu(gate: t[0], up: t[1], into: t[2]) },
            StorageCase(name: "swigluBackward",
                        operands: [.storage([n, c], &r), .storage([n, c], &r), .storage([n, c], &r),
                                   .storage([n, c], &r), .storage([n, c], &r)],
                        outputs: [3, 4]) { b, t in
                try b.swigluBackward(gate: t[0], up: t[1], gradOutput: t[2], into: t[3], gradUp: t[4])
            },
            StorageCase(name: "dropout", operands: [.storage([n, c], &r), .storage([n, c], &r)], outputs: [1]) { b, t in
                try b.dropout(t[0], probability: 0.3, seed: 77, into: t[1])
            },
        ]
    }

    static var products: [StorageCase] {
        var r = SeededGenerator(seed: 1202)
        let (m, k, n) = (19, 33, 23)
        return [
            StorageCase(name: "matmul beta 0", operands: [.storage([m, k], &r), .storage([n, k], &r), .storage([m, n], &r)],
                        outputs: [2]) { b, t in
                try b.matmul(t[0], t[1], into: t[2], transposeA: false, transposeB: true, alpha: 1, beta: 0)
            },
            StorageCase(name: "matmul beta 1 into bf16",
                        operands: [.storage([m, k], &r), .storage([k, n], &r), .storage([m, n], &r)],
                        outputs: [2]) { b, t in
                try b.matmul(t[0], t[1], into: t[2], transposeA: false, transposeB: false, alpha: 0.5, beta: 1)
            },
            // dW (n, k) += dyᵀ (n, m) · x (m, k): bf16 activations into an f32 master gradient.
            StorageCase(name: "matmul transposeA beta 1 into f32",
                        operands: [.storage([m, n], &r), .storage([m, k], &r), .float([n, k], &r)],
                        outputs: [2]) { b, t in
                try b.matmul(t[0], t[1], into: t[2], transposeA: true, transposeB: false, alpha: 1, beta: 1)
            },
            StorageCase(name: "matmul bf16 into f32 beta 0 (lm_head logits)",
                        operands: [.storage([m, k], &r), .storage([n, k], &r), .float([m, n], &r)],
                        outputs: [2]) { b, t in
                try b.matmul(t[0], t[1], into: t[2], transposeA: false, transposeB: true, alpha: 1, beta: 0)
            },
            StorageCase(name: "matmul batched",
                        operands: [.storage([3, 5, 7], &r), .storage([3, 6, 7], &r), .storage([3, 5, 6], &r)],
                        outputs: [2]) { b, t in
                try b.matmul(t[0], t[1], into: t[2], transposeA: false, transposeB: true, alpha: 1, beta: 0)
            },
        ]
    }

    static var layers: [StorageCase] {
        var r = SeededGenerator(seed: 1203)
        let (n, d, v) = (11, 24, 13)
        let ids = [3, 0, 12, 3, 7, 7, 7, 1, 9, 12, 5]
        let (heads, hd) = (3, 8)
        let positions = [0, 1, 2, 3, 0, 1, 2, 5, 9, 100, 4000]
        let frequencies = (0..<(hd / 2)).map { Float(1 / pow(10000, Double(2 * $0) / Double(hd))) }
        return [
            StorageCase(name: "embedding", operands: [.ids(ids), .storage([v, d], &r), .storage([n, d], &r)],
                        outputs: [2]) { b, t in try b.embedding(ids: t[0], table: t[1], into: t[2]) },
            StorageCase(name: "embeddingBackward into f32",
                        operands: [.ids(ids), .storage([n, d], &r), .float([v, d], &r)],
                        outputs: [2]) { b, t in try b.embeddingBackward(ids: t[0], gradOutput: t[1], into: t[2]) },
            StorageCase(name: "embeddingBackward into bf16",
                        operands: [.ids(ids), .storage([n, d], &r), .storage([v, d], &r)],
                        outputs: [2]) { b, t in try b.embeddingBackward(ids: t[0], gradOutput: t[1], into: t[2]) },
            StorageCase(name: "rmsNorm",
                        operands: [.storage([n, d], &r), .storage([d], &r), .storage([n, d], &r), .float([n], &r)],
                        outputs: [2, 3]) { b, t in
                try b.rmsNorm(t[0], weight: t[1], epsilon: 1e-5, into: t[2], inverseRMS: t[3])
            },
            StorageCase(name: "rmsNormBackward gradWeight f32",
                        operands: [.storage([n, d], &r), .storage([d], &r), .float([n], &r), .storage([n, d], &r),
                                   .storage([n, d], &r), .float([d], &r)],
                        outputs: [4, 5]) { b, t in
                try b.rmsNormBackward(t[0], weight: t[1], inverseRMS: t[2], gradOutput: t[3], into: t[4],
                                      gradWeight: t[5])
            },
            StorageCase(name: "rmsNormBackward gradWeight bf16, gradInput over gradOutput",
                        operands: [.storage([n, d], &r), .storage([d], &r), .float([n], &r), .storage([n, d], &r),
                                   .storage([d], &r)],
                        outputs: [3, 4]) { b, t in
                try b.rmsNormBackward(t[0], weight: t[1], inverseRMS: t[2], gradOutput: t[3], into: t[3],
                                      gradWeight: t[4])
            },
            StorageCase(name: "rope", operands: [.storage([n, heads, hd], &r), .ids(positions),
                                                 .float([hd / 2], frequencies), .storage([n, heads, hd], &r)],
                        outputs: [3]) { b, t in
                try b.rope(t[0], positions: t[1], inverseFrequencies: t[2], attentionScaling: 1.1, inverse: false,
                           into: t[3])
            },
            StorageCase(name: "rope inverse in place", operands: [.storage([n, heads, hd], &r), .ids(positions),
                                                                  .float([hd / 2], frequencies)],
                        outputs: [0]) { b, t in
                try b.rope(t[0], positions: t[1], inverseFrequencies: t[2], attentionScaling: 1, inverse: true,
                           into: t[0])
            },
        ]
    }

    static var attention: [StorageCase] {
        var r = SeededGenerator(seed: 1204)
        let (n, hq, hkv, hd) = (12, 4, 2, 8)
        let starts = [0, 5, 12]
        let q = [n, hq, hd], kv = [n, hkv, hd]
        // The backward case runs the forward pass first, so its output and log-sum-exp are the real ones.
        return [
            StorageCase(name: "attention",
                        operands: [.storage(q, &r), .storage(kv, &r), .storage(kv, &r), .ids(starts),
                                   .storage(q, &r), .float([n, hq], &r)],
                        outputs: [4, 5]) { b, t in
                try b.attention(query: t[0], key: t[1], value: t[2], sequenceStarts: t[3], slidingWindow: 3,
                                scale: 0.35, into: t[4], logSumExp: t[5])
            },
            StorageCase(name: "attentionBackward",
                        operands: [.storage(q, &r), .storage(kv, &r), .storage(kv, &r), .ids(starts), .storage(q, &r),
                                   .float([n, hq], &r), .storage(q, &r), .storage(q, &r), .storage(kv, &r),
                                   .storage(kv, &r)],
                        outputs: [6, 7, 8, 9]) { b, t in
                try b.attention(query: t[0], key: t[1], value: t[2], sequenceStarts: t[3], slidingWindow: nil,
                                scale: 0.35, into: t[4], logSumExp: t[5])
                // Both runs read the output as bf16 stores it (a no-op in the bf16 run).
                try b.copy(try b.converted(try b.converted(t[4], to: .bf16), to: t[4].dtype), to: t[4])
                try b.attentionBackward(query: t[0], key: t[1], value: t[2], output: t[4], logSumExp: t[5],
                                        gradOutput: t[6], sequenceStarts: t[3], slidingWindow: nil, scale: 0.35,
                                        into: t[7], gradKey: t[8], gradValue: t[9])
            },
        ]
    }

    static var generation: [StorageCase] {
        var r = SeededGenerator(seed: 1205)
        let (blocks, blockSize, hkv, hd, hq) = (4, 4, 2, 8, 4)
        let cache = [blocks, blockSize, hkv, hd]
        // Two sequences: 6 cached + 2 new tokens in blocks [2, 0], 3 new tokens (prefill) in block [3].
        return [
            StorageCase(name: "writeKeyValueCache + pagedAttention",
                        operands: [.storage([5, hkv, hd], &r), .storage([5, hkv, hd], &r), .ids([0, 1, 12, 13, 14]),
                                   .storage(cache, &r), .storage(cache, &r), .storage([5, hq, hd], &r),
                                   .ids([2, 0, 3, 1]), .ids([6, 3]), .ids([0, 2, 5]), .storage([5, hq, hd], &r)],
                        outputs: [3, 4, 9]) { b, t in
                try b.writeKeyValueCache(key: t[0], value: t[1], slots: t[2], keyCache: t[3], valueCache: t[4])
                try b.pagedAttention(query: t[5], keyCache: t[3], valueCache: t[4],
                                     blockTables: try t[6].reshaped([2, 2]), contextLengths: t[7], queryStarts: t[8],
                                     slidingWindow: nil, scale: 0.35, into: t[9])
            },
        ]
    }

    static var others: [StorageCase] {
        var r = SeededGenerator(seed: 1206)
        let (rows, columns) = (3, 64)
        let values = r.values(rows * columns, in: -3...3).map { Float($0) }
        let bytes = (try? GGMLQuantizer.quantize(values, rowLength: columns, as: .q8_0)) ?? []
        return [
            StorageCase(name: "dequantize q8_0",
                        operands: [StorageOperand(role: .bytes, shape: [bytes.count], values: bytes.map { Float($0) }),
                                   .storage([rows, columns], &r)],
                        outputs: [1]) { b, t in try b.dequantize(t[0], format: .ggml(.q8_0), into: t[1]) },
        ]
    }
}
