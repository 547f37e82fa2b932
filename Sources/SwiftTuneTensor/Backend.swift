import SwiftTuneQuantization

/// A compute device: memory plus the coarse, fused op set the decoder is built from.
///
/// Every op writes into tensors the caller allocated (`into:`), so a GPU backend can run the whole step
/// without host round trips and later capture it as a graph. Conventions:
/// - All float ops compute in f32 on f32 tensors unless a backend documents more; `cast` converts storage.
/// - Activations are token-major and packed: a batch of sequences is `[tokens, ...]`, and
///   `sequenceStarts` (i32 `[sequences + 1]`, starting at 0, ending at `tokens`) says where each begins.
/// - Ops named `…Backward` overwrite input gradients and **accumulate** into parameter gradients
///   (`gradWeight`, `gradTable`), so gradient accumulation over micro-batches is free.
/// - Ops never read device memory on the host; `download` is for the edges (loading, sampling, logging).
///
/// A backend that lacks an op inherits the default implementation, which throws `TensorError.unsupported`.
public protocol Backend: AnyObject, Sendable {
    /// A short name for messages, e.g. `cpu` or `cuda:0`.
    var name: String { get }
    /// Whether the ops compute with `precision`'s storage dtypes (every backend computes `Precision.f32`).
    func supports(_ precision: Precision) -> Bool
    /// The most device memory this backend's allocations held at once since `resetPeakMemory()`, in bytes; nil
    /// when the backend cannot tell (the CPU backend, whose memory is the process's: the trainer logs its peak RSS).
    var peakMemoryBytes: Int? { get }
    /// Starts a new peak for `peakMemoryBytes` (the trainer calls it as training starts).
    func resetPeakMemory()

    // MARK: Memory

    /// New tensor; zero-filled when `zeroed`, else contents are unspecified.
    func allocate(shape: [Int], dtype: DType, zeroed: Bool) throws -> Tensor
    /// A tensor in host memory that this backend's ops read in place (pinned and mapped on CUDA): for a big weight of
    /// which a step reads a little, such as an offloaded embedding table. The default (a backend whose memory is the
    /// host's) is `allocate`.
    func allocateInHostMemory(shape: [Int], dtype: DType) throws -> Tensor
    /// Copies `bytes` (exactly `tensor.byteCount` of them) from the host into `tensor`. The caller may reuse `bytes` as
    /// soon as this returns; the copy lands before any op queued after it. A GPU backend may return before the copy is
    /// done and need not wait for queued work (`CUDABackend` stages small uploads through pinned memory).
    func upload(_ bytes: UnsafeRawBufferPointer, to tensor: Tensor) throws
    /// Copies `tensor` to the host (exactly `tensor.byteCount` bytes). Waits for pending work.
    func download(_ tensor: Tensor, to bytes: UnsafeMutableRawBufferPointer) throws
    /// `destination = source`, same dtype and element count.
    func copy(_ source: Tensor, to destination: Tensor) throws
    /// Sets every element of a float tensor to `value`.
    func fill(_ tensor: Tensor, with value: Float) throws
    /// Converts between float dtypes (f32, f64, bf16, f16), rounding to nearest even; same element count.
    func cast(_ source: Tensor, to destination: Tensor) throws
    /// Waits until all queued work is done.
    func synchronize() throws

    // MARK: Elementwise and reductions (f32)

    /// `out = a + scale * b`, same element count; `out` may be `a` or `b`.
    func add(_ a: Tensor, _ b: Tensor, scale: Float, into out: Tensor) throws
    /// `out = factor * x`; `out` may be `x`.
    func scale(_ x: Tensor, by factor: Float, into out: Tensor) throws
    /// `out = factor[0] * x` with the factor f32 `[1]` read on the device (a clip coefficient, a loss scale), so
    /// the host never waits for it; `out` may be `x`.
    func scale(_ x: Tensor, byDeviceScalar factor: Tensor, into out: Tensor) throws
    /// `out[n, c] = x[n, c] + bias[c]` for x `[N, C]`; `out` may be `x`.
    func addBias(_ x: Tensor, bias: Tensor, into out: Tensor) throws
    /// `out[c] (+)= Σ_n x[n, c]` for x `[N, C]`: the bias gradient. Accumulates when `accumulate`.
    func sumRows(_ x: Tensor, into out: Tensor, accumulate: Bool) throws
    /// `out[0] (+)= Σ x²` (f32 `[1]`), for gradient norms. Accumulates when `accumulate`.
    func sumOfSquares(_ x: Tensor, into out: Tensor, accumulate: Bool) throws

    // MARK: Matrix products

    /// `c = alpha · op(a) · op(b) + beta · c`, with `op` the optional transpose of the last two dimensions.
    ///
    /// a: `[..., M, K]` (`[..., K, M]` if `transposeA`), b: `[..., K, N]` (`[..., N, K]` if `transposeB`),
    /// c: `[..., M, N]`. Leading dimensions are a batch: a and c have the same batch count, and b has
    /// that count or none (rank 2, shared by every batch item).
    func matmul(_ a: Tensor, _ b: Tensor, into c: Tensor,
                transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float) throws

    // MARK: Layers

    /// `out[n] = table[ids[n]]`; ids i32 `[N]`, table `[V, D]`, out `[N, D]`. Also the row gather generation
    /// uses to pick each sequence's last hidden state before the lm_head.
    func embedding(ids: Tensor, table: Tensor, into out: Tensor) throws
    /// `gradTable[ids[n]] += gradOutput[n]` (scatter-add; repeated ids accumulate).
    func embeddingBackward(ids: Tensor, gradOutput: Tensor, into gradTable: Tensor) throws

    /// RMSNorm over the last dimension: `out = x · rsqrt(mean(x²) + ε) · weight`; x `[N, D]`, weight `[D]`.
    /// Writes `1 / rms` per row into `inverseRMS` (`[N]`) when given, for the backward pass.
    func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, into out: Tensor, inverseRMS: Tensor?) throws
    /// Gradients of `rmsNorm`: overwrites `gradInput` `[N, D]`, accumulates into `gradWeight` `[D]` if given.
    func rmsNormBackward(_ x: Tensor, weight: Tensor, inverseRMS: Tensor, gradOutput: Tensor,
                         into gradInput: Tensor, gradWeight: Tensor?) throws

    /// Rotary position embedding in HF's rotate-half layout (pairs `i` and `i + hd/2`).
    ///
    /// x `[N, H, hd]`, positions i32 `[N]`, inverseFrequencies f32 `[hd/2]`; the angle for pair `i` at position
    /// `p` is `p · inverseFrequencies[i]`, and cos/sin are multiplied by `attentionScaling` (1 except for YaRN).
    /// `inverse` applies the transposed rotation, which is the backward pass. `out` may be `x`.
    func rope(_ x: Tensor, positions: Tensor, inverseFrequencies: Tensor, attentionScaling: Float,
              inverse: Bool, into out: Tensor) throws

    /// Causal self-attention over packed sequences with grouped-query heads.
    ///
    /// query `[N, Hq, hd]`, key and value `[N, Hkv, hd]` (Hq a multiple of Hkv; query head h reads kv head
    /// `h / (Hq / Hkv)`), sequenceStarts i32 `[S + 1]`. Token i of a sequence sees tokens j of the same sequence
    /// with `j ≤ i` and, when `slidingWindow` is set, `i - j < slidingWindow`. Scores are `scale · q·k`.
    /// Writes out `[N, Hq, hd]` and, when given, the log-sum-exp of each row's scores into `logSumExp` `[N, Hq]`.
    func attention(query: Tensor, key: Tensor, value: Tensor, sequenceStarts: Tensor,
                   slidingWindow: Int?, scale: Float, into out: Tensor, logSumExp: Tensor?) throws
    /// Gradients of `attention` from its inputs, output and log-sum-exp; overwrites the three gradients.
    func attentionBackward(query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                           gradOutput: Tensor, sequenceStarts: Tensor, slidingWindow: Int?, scale: Float,
                           into gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor) throws

    /// `out = silu(gate) · up`, elementwise, same shapes.
    func swiglu(gate: Tensor, up: Tensor, into out: Tensor) throws
    /// Gradients of `swiglu`; overwrites `gradGate` and `gradUp`.
    func swigluBackward(gate: Tensor, up: Tensor, gradOutput: Tensor, into gradGate: Tensor, gradUp: Tensor) throws

    /// Softmax cross-entropy on one chunk of logits, fused with its gradient.
    ///
    /// logits f32 `[N, V]`, targets i32 `[N]` (`-100` = ignored). Accumulates into `stats` (f32 `[3]`):
    /// the sum of `-log p(target)`, the number of scored rows, and the number whose argmax equals the target.
    /// Writes `log p(target)` per row into `logProbabilities` `[N]` when given (0 for ignored rows).
    /// When `gradientScale` is set, overwrites `logits` with `s_n · (softmax − onehot)` (zero rows for ignored
    /// targets), which is the gradient of `Σ_n s_n · loss_n`: `s_n = gradientScale`, or
    /// `gradientScale · tokenWeights[n]` with per-row weights (f32 `[N]`; a training objective's
    /// `−dL/d log p(target_n)`, e.g. DPO's per-sequence coefficients).
    func crossEntropy(logits: Tensor, targets: Tensor, gradientScale: Float?, tokenWeights: Tensor?,
                      stats: Tensor, logProbabilities: Tensor?) throws

    // MARK: Quantized weights

    /// Decodes a matrix stored in a block format (a frozen quantized weight) into a float tensor.
    ///
    /// blocks u8, `rows · format.rowByteCount(columns)` bytes (rows back to back); out `[rows, columns]` (any rank
    /// whose last dimension is `columns`) in a float dtype the backend computes in. The arithmetic is the format's
    /// reference (`BlockFormat.decode`), so a dequantized weight equals the one a loader dequantizes on the host.
    func dequantize(_ blocks: Tensor, format: BlockFormat, into out: Tensor) throws

    /// Decodes a bitsandbytes 4-bit weight (NF4/FP4, QLoRA) into `out`, the nested absmax and the codes together.
    ///
    /// out: the weight's values (any shape, row-major), f32 or bf16. Bit for bit `BitsAndBytes4Bit.dequantize`:
    /// `code[nibble] · absmax` with `absmax = (map[q] · scale) + offset` when double-quantized (f32, rounding after
    /// each step), a bf16 out rounded to nearest even (bitsandbytes' `dequantize_4bit`).
    func dequantize4Bit(_ weight: FourBitWeightTensors, into out: Tensor) throws

    /// Encodes a weight as a bitsandbytes 4-bit weight without double quantization (`FourBitWeightTensors.quantize`
    /// adds that on the host): QLoRA's quantize-while-loading.
    ///
    /// values: any shape, f32 or bf16, n finite values; packed u8 `[(n + 1) / 2]` out (element 2j in byte j's high
    /// nibble, an odd n padded with the code of 0); absmax f32 `[ceil(n / blockSize)]` out. Bit for bit
    /// `BitsAndBytes4Bit.quantize(doubleQuantization: false)`; a block holding a NaN or an infinity gets absmax NaN.
    func quantize4Bit(_ values: Tensor, quantType: FourBitQuantType, blockSize: Int, packed: Tensor,
                      absmax: Tensor) throws

    // MARK: Generation (paged KV cache)

    /// Writes the new tokens' keys and values into a paged KV cache: `keyCache[slots[n]] = key[n]` and
    /// `valueCache[slots[n]] = value[n]` for every row `n` with `slots[n] ≥ 0` (a negative slot skips the row).
    ///
    /// key, value f32 `[N, Hkv, hd]`; slots i32 `[N]`, each a flat slot `block · blockSize + offset`;
    /// keyCache, valueCache f32 `[blocks, blockSize, Hkv, hd]` (the cache of one layer). Slots must be distinct.
    func writeKeyValueCache(key: Tensor, value: Tensor, slots: Tensor, keyCache: Tensor, valueCache: Tensor) throws

    /// Causal grouped-query attention of new tokens over a paged KV cache: prefill (many new tokens per sequence,
    /// causal among themselves and over the cached prefix) and decode (one per sequence) in one call.
    ///
    /// query `[N, Hq, hd]` packs the new tokens of S sequences; `queryStarts` i32 `[S + 1]` (from 0, rising, ending
    /// at N) says which rows belong to sequence s. keyCache, valueCache `[blocks, blockSize, Hkv, hd]` already
    /// hold every token of each sequence, the new ones included (`writeKeyValueCache` first); `contextLengths`
    /// i32 `[S]` counts them; `blockTables` i32 `[S, maxBlocks]` lists each sequence's blocks in order: position
    /// `p` lives in block `blockTables[s, p / blockSize]` at offset `p % blockSize` (entries past the context are
    /// not read). New row `t` of sequence s (`t < q_s`, the sequence's new-token count) is at position
    /// `p = contextLengths[s] − q_s + t` and sees positions `j ≤ p` with, when `slidingWindow` is set,
    /// `p − j < slidingWindow`; query head h reads kv head `h / (Hq / Hkv)`; scores are `scale · q·k`.
    /// Writes out `[N, Hq, hd]`: the same rows `attention` gives for those tokens of the whole sequences.
    func pagedAttention(query: Tensor, keyCache: Tensor, valueCache: Tensor, blockTables: Tensor,
                        contextLengths: Tensor, queryStarts: Tensor, slidingWindow: Int?, scale: Float,
                        into out: Tensor) throws

    // MARK: Sampling

    /// Picks the next token of every row of logits on the device, as HF transformers' `generate` does (its logits
    /// processors in its order, then one draw), so a decode step downloads `[S]` ids instead of `[S, V]` logits.
    ///
    /// logits f32 `[S, V]` (read only); parameters f64 `[S, SamplingParameter.count]`, row s's settings in the
    /// columns `SamplingParameter` names; historyIds i32 `[H]` packs every row's history (prompt and answer so far)
    /// end to end; historyStarts i32 `[S + 1]` (from 0, rising, ending at H): row s's history is
    /// `historyIds[historyStarts[s]..<historyStarts[s + 1]]`; answerStarts i32 `[S]`: its answer is
    /// `historyIds[answerStarts[s]..<historyStarts[s + 1]]` (`historyStarts[s] ≤ answerStarts[s] ≤ historyStarts[s + 1]`).
    /// Ids outside `0..<V` are skipped. Per row, on f32 scores `x` (a copy of the logits):
    /// 1. repetition penalty `r` (CTRL, https://arxiv.org/abs/1909.05858) on each distinct history id:
    ///    `x < 0 ? x · r : x / r` (r = 1: off);
    /// 2. OpenAI's presence and frequency penalties on each id occurring `c > 0` times in the answer:
    ///    `x −= Float(Double(c) · frequency + presence)`;
    /// 3. temperature 0: the token is the first largest `x` (greedy). Otherwise `x /= temperature` (f32), and the
    ///    candidates (scores above −∞) go through top-k (keep scores ≥ the k-th largest, ties included; 0: off),
    ///    top-p (in ascending (score, id) order, drop tokens while the cumulative probability stays ≤ 1 − top_p;
    ///    the most likely stays; 1: off) and min-p (drop scores below `max + log(min_p)` in f64; 0: off), each with
    ///    its softmax in f64; then the token is the first candidate, in ascending id order, whose cumulative
    ///    probability exceeds the row's `uniform` (the last candidate if none does; the first largest `x` if no
    ///    candidate is left).
    /// The uniform number comes from the host (the request's `SeededGenerator`), so a row samples the same alone or
    /// batched and on every backend (up to rounding of the f64 sums on a GPU). Writes tokens i32 `[S]` and, when
    /// given, logprobs f64 `[S]`: the chosen token's log-softmax of the raw logits (before penalties and filters).
    func sample(logits: Tensor, parameters: Tensor, historyIds: Tensor, historyStarts: Tensor, answerStarts: Tensor,
                into tokens: Tensor, logprobs: Tensor?) throws

    // MARK: Training

    /// Inverted dropout with a counter-based mask: `out[i] = keep(i) ? x[i] · scale : 0`, `scale = 1 / (1 − p)`.
    ///
    /// `keep(i)` is `DropoutMask.keeps(seed:index:threshold:)`, a pure integer hash of `(seed, i)`, so every backend
    /// draws the same mask bit for bit and nothing is stored: the backward pass is this op, with the same seed, on
    /// the gradient. `probability` is in [0, 1]: 0 copies `x`, 1 gives zeros. x, out f32, same element count;
    /// `out` may be `x`.
    func dropout(_ x: Tensor, probability: Float, seed: UInt64, into out: Tensor) throws

    /// LoRA's down-projection under dropout, `u = dropout(x)·Aᵀ`, without storing `dropout(x)`: the mask is
    /// `dropout`'s over x (element `row · in + k`), kept values are `x · scale` in f32. x `[N, in]`, a `[r, in]`,
    /// u `[N, r]`, all one storage dtype (f32 or bf16). The reference composes `dropout` and `matmul`
    /// (`LoRAReference`).
    func loraDown(_ x: Tensor, a: Tensor, probability: Float, seed: UInt64, into u: Tensor) throws

    /// `dA += duᵀ · dropout(x)` (dropout as in `loraDown`): du `[N, r]` and x `[N, in]` in one storage dtype, dA f32
    /// `[r, in]`.
    func loraDownGradient(_ du: Tensor, x: Tensor, probability: Float, seed: UInt64, accumulateInto dA: Tensor) throws

    /// `dx += dropout(du · A)` (dropout's backward is dropout with the same mask, that of x `[N, in]`): du `[N, r]`,
    /// a `[r, in]`, dx `[N, in]`, one storage dtype.
    func loraInputGradient(_ du: Tensor, a: Tensor, probability: Float, seed: UInt64, accumulateInto dx: Tensor) throws

    /// One AdamW step on one f32 tensor in `torch.optim.AdamW`'s single-tensor order (Loshchilov & Hutter,
    /// https://arxiv.org/abs/1711.05101), with `t` the step (1 for the first update):
    /// `p ← p · (1 − lr·wd)`; `m ← lerp(m, g, 1 − β1)`; `v ← β2·v + (1 − β2)·g²`;
    /// `p ← p − lr / (1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)`.
    ///
    /// parameter, gradient, firstMoment (`m`), secondMoment (`v`): f32, same element count; the moments start at 0
    /// and are updated in place. `scalars` is f32 `[7]`, the step's `AdamWCoefficients.scalars` (computed on the host
    /// in `Double` as PyTorch computes them in Python floats, then rounded to f32 once), read on the device: the
    /// launch does not change from step to step, so a step can be captured as a graph and replayed after one small
    /// upload. `adamW(…, learningRate:…, step:)` is the same update with the scalars uploaded for one call.
    func adamW(parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor, scalars: Tensor) throws

    /// The global-norm clip factor of `torch.nn.utils.clip_grad_norm_`, on the device:
    /// `coefficient[0] = min(1, maxNorm / (norm + 1e-6))` in f32, with `norm = Float(√Double(sumOfSquares[0]))`.
    ///
    /// sumOfSquares f32 `[1]` (Σ g² over every gradient, from `sumOfSquares`), coefficient f32 `[1]`; maxNorm finite
    /// and ≥ 0. A NaN norm gives 1 (no scaling), as the host's `coefficient < 1` test does. Scale the gradients with
    /// `scale(_:byDeviceScalar:into:)`: nothing is read on the host.
    func clipCoefficient(sumOfSquares: Tensor, maxNorm: Float, into coefficient: Tensor) throws
}

// MARK: - Default implementations: an op a backend lacks says so.

extension Backend {
    private func missing(_ op: String) -> TensorError {
        .unsupported(op: op, backend: name, hint: "run this on the CPU backend (--device cpu)")
    }

    public func add(_ a: Tensor, _ b: Tensor, scale: Float, into out: Tensor) throws { throw missing("add") }
    public func scale(_ x: Tensor, by factor: Float, into out: Tensor) throws { throw missing("scale") }
    public func scale(_ x: Tensor, byDeviceScalar factor: Tensor, into out: Tensor) throws {
        throw missing("scaleByDeviceScalar")
    }
    public func addBias(_ x: Tensor, bias: Tensor, into out: Tensor) throws { throw missing("addBias") }
    public func sumRows(_ x: Tensor, into out: Tensor, accumulate: Bool) throws { throw missing("sumRows") }
    public func sumOfSquares(_ x: Tensor, into out: Tensor, accumulate: Bool) throws { throw missing("sumOfSquares") }
    public func matmul(_ a: Tensor, _ b: Tensor, into c: Tensor,
                       transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float) throws { throw missing("matmul") }
    public func embedding(ids: Tensor, table: Tensor, into out: Tensor) throws { throw missing("embedding") }
    public func embeddingBackward(ids: Tensor, gradOutput: Tensor, into gradTable: Tensor) throws {
        throw missing("embeddingBackward")
    }
    public func rmsNorm(_ x: Tensor, weight: Tensor, epsilon: Float, into out: Tensor, inverseRMS: Tensor?) throws {
        throw missing("rmsNorm")
    }
    public func rmsNormBackward(_ x: Tensor, weight: Tensor, inverseRMS: Tensor, gradOutput: Tensor,
                                into gradInput: Tensor, gradWeight: Tensor?) throws { throw missing("rmsNormBackward") }
    public func rope(_ x: Tensor, positions: Tensor, inverseFrequencies: Tensor, attentionScaling: Float,
                     inverse: Bool, into out: Tensor) throws { throw missing("rope") }
    public func attention(query: Tensor, key: Tensor, value: Tensor, sequenceStarts: Tensor,
                          slidingWindow: Int?, scale: Float, into out: Tensor, logSumExp: Tensor?) throws {
        throw missing("attention")
    }
    public func attentionBackward(query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                                  gradOutput: Tensor, sequenceStarts: Tensor, slidingWindow: Int?, scale: Float,
                                  into gradQuery: Tensor, gradKey: Tensor, gradValue: Tensor) throws {
        throw missing("attentionBackward")
    }
    public func swiglu(gate: Tensor, up: Tensor, into out: Tensor) throws { throw missing("swiglu") }
    public func swigluBackward(gate: Tensor, up: Tensor, gradOutput: Tensor,
                               into gradGate: Tensor, gradUp: Tensor) throws { throw missing("swigluBackward") }
    public func crossEntropy(logits: Tensor, targets: Tensor, gradientScale: Float?, tokenWeights: Tensor?,
                             stats: Tensor, logProbabilities: Tensor?) throws { throw missing("crossEntropy") }
    public func dequantize(_ blocks: Tensor, format: BlockFormat, into out: Tensor) throws {
        throw missing("dequantize(\(format))")
    }
    public func dequantize4Bit(_ weight: FourBitWeightTensors, into out: Tensor) throws {
        throw missing("dequantize4Bit(\(weight.quantType))")
    }
    public func quantize4Bit(_ values: Tensor, quantType: FourBitQuantType, blockSize: Int, packed: Tensor,
                             absmax: Tensor) throws {
        throw missing("quantize4Bit(\(quantType))")
    }
    public func supports(_ precision: Precision) -> Bool { precision == .f32 }
    public func allocateInHostMemory(shape: [Int], dtype: DType) throws -> Tensor {
        try allocate(shape: shape, dtype: dtype, zeroed: false)
    }
    public var peakMemoryBytes: Int? { nil }
    public func resetPeakMemory() {}

    /// `crossEntropy` with one gradient scale for every row.
    public func crossEntropy(logits: Tensor, targets: Tensor, gradientScale: Float?,
                             stats: Tensor, logProbabilities: Tensor?) throws {
        try crossEntropy(logits: logits, targets: targets, gradientScale: gradientScale, tokenWeights: nil,
                         stats: stats, logProbabilities: logProbabilities)
    }
    public func writeKeyValueCache(key: Tensor, value: Tensor, slots: Tensor, keyCache: Tensor,
                                   valueCache: Tensor) throws { throw missing("writeKeyValueCache") }
    public func pagedAttention(query: Tensor, keyCache: Tensor, valueCache: Tensor, blockTables: Tensor,
                               contextLengths: Tensor, queryStarts: Tensor, slidingWindow: Int?, scale: Float,
                               into out: Tensor) throws { throw missing("pagedAttention") }
    public func sample(logits: Tensor, parameters: Tensor, historyIds: Tensor, historyStarts: Tensor,
                       answerStarts: Tensor, into tokens: Tensor, logprobs: Tensor?) throws { throw missing("sample") }
    public func dropout(_ x: Tensor, probability: Float, seed: UInt64, into out: Tensor) throws { throw missing("dropout") }
    public func loraDown(_ x: Tensor, a: Tensor, probability: Float, seed: UInt64, into u: Tensor) throws {
        try LoRAReference.down(x, a: a, probability: probability, seed: seed, into: u)
    }
    public func loraDownGradient(_ du: Tensor, x: Tensor, probability: Float, seed: UInt64,
                                 accumulateInto dA: Tensor) throws {
        try LoRAReference.downGradient(du, x: x, probability: probability, seed: seed, accumulateInto: dA)
    }
    public func loraInputGradient(_ du: Tensor, a: Tensor, probability: Float, seed: UInt64,
                                  accumulateInto dx: Tensor) throws {
        try LoRAReference.inputGradient(du, a: a, probability: probability, seed: seed, accumulateInto: dx)
    }
    public func adamW(parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor,
                      scalars: Tensor) throws { throw missing("adamW") }
    public func clipCoefficient(sumOfSquares: Tensor, maxNorm: Float, into coefficient: Tensor) throws {
        throw missing("clipCoefficient")
    }
}

// MARK: - Conveniences over the ops

extension Backend {
    /// One AdamW step with host scalars: validates the hyperparameters (`AdamWCoefficients`, `TensorError.invalidArgument`
    /// for a step below 1, betas outside [0, 1), negative or non-finite rates), uploads the step's scalars and runs
    /// `adamW(parameter:gradient:firstMoment:secondMoment:scalars:)`. An optimizer over many tensors uploads the
    /// scalars once per step instead (`SwiftTuneNN.AdamW`).
    public func adamW(parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor,
                      learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double,
                      step: Int) throws {
        let coefficients = try AdamWCoefficients(learningRate: learningRate, beta1: beta1, beta2: beta2,
                                                 epsilon: epsilon, weightDecay: weightDecay, step: step)
        let scalars = try tensor(coefficients.scalars, shape: [AdamWCoefficients.scalarCount])
        try adamW(parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment,
                  scalars: scalars)
    }
}
