import SwiftTuneTensor

/// Causal attention forward and backward throughput on one backend: random bf16 (or f32) inputs of `tokens` rows
/// in one sequence, the median time of `repeats` timed runs after `warmup` untimed ones.
///
/// FLOPs are counted as FlashAttention's papers and PyTorch's benchmarks count them, so figures compare with theirs:
/// forward `4·N²·Hq·hd` halved for the causal mask, backward 2.5 times the forward (five matrix products to two).
public struct AttentionBenchmark: Sendable {
    public var tokens: Int
    public var queryHeads: Int
    public var keyValueHeads: Int
    public var headDim: Int
    public var dtype: DType
    public var repeats: Int
    public var warmup: Int

    public init(tokens: Int, queryHeads: Int = 28, keyValueHeads: Int = 4, headDim: Int = 128, dtype: DType = .bf16,
                repeats: Int = 20, warmup: Int = 3) {
        (self.tokens, self.queryHeads, self.keyValueHeads, self.headDim) = (tokens, queryHeads, keyValueHeads, headDim)
        (self.dtype, self.repeats, self.warmup) = (dtype, repeats, warmup)
    }

    public struct Result: Sendable, CustomStringConvertible {
        public var benchmark: AttentionBenchmark
        /// Median milliseconds per call.
        public var forwardMilliseconds: Double
        public var backwardMilliseconds: Double

        public var forwardFLOPs: Double {
            let b = benchmark
            return 4 * Double(b.tokens) * Double(b.tokens) * Double(b.queryHeads * b.headDim) / 2
        }
        public var forwardTFLOPs: Double { forwardFLOPs / forwardMilliseconds / 1e9 }
        public var backwardTFLOPs: Double { 2.5 * forwardFLOPs / backwardMilliseconds / 1e9 }
        public var totalTFLOPs: Double { 3.5 * forwardFLOPs / (forwardMilliseconds + backwardMilliseconds) / 1e9 }

        public var description: String {
            let b = benchmark
            return "attention \(b.dtype) N \(b.tokens) heads \(b.queryHeads)/\(b.keyValueHeads) hd \(b.headDim) causal: "
                + "forward \(Self.format(forwardMilliseconds)) ms (\(Self.format(forwardTFLOPs)) TFLOP/s), "
                + "backward \(Self.format(backwardMilliseconds)) ms (\(Self.format(backwardTFLOPs)) TFLOP/s), "
                + "forward+backward \(Self.format(totalTFLOPs)) TFLOP/s"
        }

        static func format(_ value: Double) -> String {
            let scaled = (value * 100).rounded() / 100
            return "\(scaled)"
        }
    }

    /// Runs the benchmark. `time` returns the milliseconds the backend spent on the work its closure queues (CUDA
    /// events on a GPU; wall clock after a synchronize elsewhere).
    public func run(on backend: any Backend, time: (() throws -> Void) throws -> Double) throws -> Result {
        var random = SeededGenerator(seed: 7)
        func tensor(_ shape: [Int]) throws -> Tensor {
            let values = (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &random) }
            return try backend.tensor(values, shape: shape, dtype: dtype)
        }
        let q = try tensor([tokens, queryHeads, headDim])
        let k = try tensor([tokens, keyValueHeads, headDim]), v = try tensor([tokens, keyValueHeads, headDim])
        let gradOutput = try tensor([tokens, queryHeads, headDim])
        let starts = try backend.tensor([Int32(0), Int32(tokens)], shape: [2])
        let out = try backend.empty(q.shape, dtype: dtype), logSumExp = try backend.empty([tokens, queryHeads])
        let gradQuery = try backend.empty(q.shape, dtype: dtype)
        let gradKey = try backend.empty(k.shape, dtype: dtype), gradValue = try backend.empty(v.shape, dtype: dtype)
        let scale = 1 / Float(headDim).squareRoot()
        let forward = {
            try backend.attention(query: q, key: k, value: v, sequenceStarts: starts, slidingWindow: nil, scale: scale,
                                  into: out, logSumExp: logSumExp)
        }
        let backward = {
            try backend.attentionBackward(query: q, key: k, value: v, output: out, logSumExp: logSumExp,
                                          gradOutput: gradOutput, sequenceStarts: starts, slidingWindow: nil,
                                          scale: scale, into: gradQuery, gradKey: gradKey, gradValue: gradValue)
        }
        func median(_ body: @escaping () throws -> Void) throws -> Double {
            for _ in 0..<warmup { _ = try time(body) }
            let times = try (0..<max(repeats, 1)).map { _ in try time(body) }.sorted()
            return times[times.count / 2]
        }
        return Result(benchmark: self, forwardMilliseconds: try median(forward), backwardMilliseconds: try median(backward))
    }
}
