import Testing
@testable import SwiftTuneCPU
import SwiftTuneTensor

/// Bad shapes, dtypes, ids and offsets give a typed `TensorError` that names the op and argument and says
/// what was expected; nothing crashes and nothing is half-written.
@Suite("Typed errors")
struct ErrorTests {
    let backend = protocolBackend()

    /// Runs `body`, expects a `TensorError`, and checks its message contains every fragment.
    func expectError(_ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> Void) {
        let error = #expect(throws: TensorError.self, sourceLocation: sourceLocation) { try body() }
        guard let message = error?.description else { return }
        for fragment in fragments {
            #expect(message.contains(fragment), "message \"\(message)\" lacks \"\(fragment)\"",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func shapeMismatchNamesOpArgumentAndShapes() throws {
        let x = try backend.zeros([7, 13]), out = try backend.zeros([7, 13])
        expectError(["rmsNorm weight", "[13]", "[12]"]) {
            try backend.rmsNorm(x, weight: try backend.zeros([12]), epsilon: 1e-5, into: out, inverseRMS: nil)
        }
        expectError(["add b", "91 elements", "[90]"]) { try backend.add(x, try backend.zeros([90]), scale: 1, into: out) }
        expectError(["swiglu out", "[7, 13]", "[13, 7]"]) {
            try backend.swiglu(gate: x, up: out, into: try backend.zeros([13, 7]))
        }
        expectError(["rope x", "even hd", "[2, 1, 5]"]) {
            let odd = try backend.zeros([2, 1, 5])
            try backend.rope(odd, positions: try backend.i32([0, 1], [2]), inverseFrequencies: try backend.zeros([2]),
                             attentionScaling: 1, inverse: false, into: odd)
        }
    }

    @Test func dtypeMismatchNamesArgument() throws {
        let x = try backend.zeros([7, 13], dtype: .f64)
        expectError(["rmsNorm x", "f32", "f64"]) {
            try backend.rmsNorm(x, weight: try backend.zeros([13]), epsilon: 1e-5, into: try backend.zeros([7, 13]),
                                inverseRMS: nil)
        }
        expectError(["embedding ids", "i32"]) {
            try backend.embedding(ids: try backend.zeros([2]), table: try backend.zeros([5, 3]),
                                  into: try backend.zeros([2, 3]))
        }
    }

    @Test func outOfRangeIDsAndTargets() throws {
        let table = try backend.zeros([5, 3])
        expectError(["embedding ids[2]", "index 9", "0..<5"]) {
            try backend.embedding(ids: try backend.i32([0, 4, 9], [3]), table: table, into: try backend.zeros([3, 3]))
        }
        expectError(["embeddingBackward ids[0]", "index -1"]) {
            try backend.embeddingBackward(ids: try backend.i32([-1], [1]), gradOutput: try backend.zeros([1, 3]),
                                          into: table)
        }
        // A bad target is reported before the logits are overwritten with the gradient.
        let logits = try backend.tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        let stats = try backend.zeros([3])
        expectError(["crossEntropy targets[1]", "index 3", "0..<3"]) {
            try backend.crossEntropy(logits: logits, targets: try backend.i32([-100, 3], [2]), gradientScale: 1,
                                     stats: stats, logProbabilities: nil)
        }
        #expect(try backend.floats(logits) == [1, 2, 3, 4, 5, 6])
        #expect(try backend.floats(stats) == [0, 0, 0])
    }

    @Test func invalidAttentionArguments() throws {
        let query = try backend.zeros([5, 4, 2]), key = try backend.zeros([5, 2, 2]), out = try backend.zeros([5, 4, 2])
        let good = key
        for starts in [[0, 3, 2, 5], [1, 5], [0, 4], [0, 3, 6]] {
            expectError(["attention sequenceStarts values", "from 0 to N = 5", "\(starts)"]) {
                try backend.attention(query: query, key: good, value: good,
                                      sequenceStarts: try backend.i32(starts, [starts.count]), slidingWindow: nil,
                                      scale: 1, into: out, logSumExp: nil)
            }
        }
        expectError(["attention key", "Hkv dividing Hq = 4", "[5, 3, 2]"]) {
            let bad = try backend.zeros([5, 3, 2])
            try backend.attention(query: query, key: bad, value: bad, sequenceStarts: try backend.i32([0, 5], [2]),
                                  slidingWindow: nil, scale: 1, into: out, logSumExp: nil)
        }
        expectError(["attention slidingWindow", "≥ 1"]) {
            try backend.attention(query: query, key: good, value: good, sequenceStarts: try backend.i32([0, 5], [2]),
                                  slidingWindow: 0, scale: 1, into: out, logSumExp: nil)
        }
        expectError(["attentionBackward logSumExp", "[5, 4]", "[5, 2]"]) {
            try backend.attentionBackward(query: query, key: good, value: good, output: out,
                                          logSumExp: try backend.zeros([5, 2]), gradOutput: out,
                                          sequenceStarts: try backend.i32([0, 5], [2]), slidingWindow: nil, scale: 1,
                                          into: try backend.zeros([5, 4, 2]), gradKey: try backend.zeros([5, 2, 2]),
                                          gradValue: try backend.zeros([5, 2, 2]))
        }
    }

    @Test func matmulShapes() throws {
        let a = try backend.zeros([4, 3]), c = try backend.zeros([4, 5])
        expectError(["matmul b", "[..., 3, N]", "[4, 5]"]) {
            try backend.matmul(a, try backend.zeros([4, 5]), into: c, transposeA: false, transposeB: false, alpha: 1, beta: 0)
        }
        expectError(["matmul c", "[4, 5]", "[5, 4]"]) {
            try backend.matmul(a, try backend.zeros([3, 5]), into: try backend.zeros([5, 4]),
                               transposeA: false, transposeB: false, alpha: 1, beta: 0)
        }
        expectError(["matmul b", "batch of 2"]) {
            try backend.matmul(try backend.zeros([2, 4, 3]), try backend.zeros([3, 3, 5]),
                               into: try backend.zeros([2, 4, 5]), transposeA: false, transposeB: false, alpha: 1, beta: 0)
        }
        expectError(["matmul a", "rank ≥ 2"]) {
            try backend.matmul(try backend.zeros([3]), try backend.zeros([3, 5]), into: c,
                               transposeA: false, transposeB: false, alpha: 1, beta: 0)
        }
    }
}
