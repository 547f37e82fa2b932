import SwiftTuneTensor

extension KernelFunction {
    /// `sampling.cu`.
    static let samplingFunctions: [KernelFunction] = [sample]
    static let sample = KernelFunction(.sampling, "sample", dtypes: [.f32])
}

/// `sample`: one thread block of `sampleBlock` threads per row (`sample_f32` in `sampling.cu`), with two scratch
/// tensors `[S, V]` from the stream-ordered pool: the row's scores, and its answer's id counts (zeroed).
///
/// Shapes and dtypes are checked on the host (`SampleShapes`); the offsets and settings stay on the GPU and are not
/// read back, so they must be well formed (the CPU backend checks them; the engine builds them from validated
/// configs).
extension CUDABackend {
    /// Threads per row (`SAMPLE_BLOCK` in sampling.cu).
    static let sampleBlock = 1024

    public func sample(logits: Tensor, parameters: Tensor, historyIds: Tensor, historyStarts: Tensor,
                       answerStarts: Tensor, into tokens: Tensor, logprobs: Tensor?) throws {
        let op = "sample"
        let (rows, vocabulary) = try SampleShapes.check(
            logits: logits, parameters: parameters, historyIds: historyIds, historyStarts: historyStarts,
            answerStarts: answerStarts, tokens: tokens, logprobs: logprobs)
        try KernelLimits.fitsInt32([rows, vocabulary], op, logits.shape)
        try context.makeCurrent()
        let scores = try allocate(shape: [rows, vocabulary], dtype: .f32, zeroed: false)
        let counts = try allocate(shape: [rows, vocabulary], dtype: .i32, zeroed: true)
        try launch(.sample, .f32, grid: (rows, 1), block: Self.sampleBlock, [
            .pointer(address(logits, op)), .pointer(address(parameters, op)), .pointer(address(historyIds, op)),
            .pointer(address(historyStarts, op)), .pointer(address(answerStarts, op)), .pointer(address(tokens, op)),
            .pointer(address(logprobs, op)), .pointer(address(scores, op)),
            .pointer(address(counts, op)), .int(vocabulary),
        ])
    }
}
