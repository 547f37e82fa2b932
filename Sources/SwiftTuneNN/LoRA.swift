import Synchronization
import SwiftTuneTensor

/// A low-rank adapter on one `Linear` layer (Hu et al. 2021, https://arxiv.org/abs/2106.09685), as PEFT's
/// `lora.Linear` defines it: `y = x·Wᵀ + b + scale · (dropout(x)·Aᵀ)·Bᵀ`, with dropout on the adapter's input only.
///
/// `scale` is `alpha / r`, or `alpha / √r` with rsLoRA (Kalajdzievski 2023, https://arxiv.org/abs/2312.03732).
/// A new adapter has A Kaiming-uniform (PyTorch's `kaiming_uniform_(a: √5)`: U(−1/√in, 1/√in)) and B zero, so
/// it starts as the identity on the base layer. Parameter names are the module's checkpoint prefix plus
/// `.lora_A.weight` / `.lora_B.weight` (PEFT writes them under `base_model.model.`).
///
/// Between forward and backward the side path keeps only the small `u = dropout(x)·Aᵀ` (`[N, r]`) of its last forward,
/// tied to that input (held weakly) and dropout seed: the backward of the same input reuses it, any other input
/// recomputes it. A backward pass follows the forward (or the checkpointed recompute) of its own input, with no
/// optimizer step in between, so the reused `u` is the one a recomputation would give.
public final class LoRA: @unchecked Sendable {
    /// The adapted module, e.g. `model.layers.0.self_attn.q_proj`.
    public let moduleName: String
    /// `lora_A` `[r, in]`
    public let loraA: Parameter
    /// `lora_B` `[out, r]`
    public let loraB: Parameter
    public let alpha: Double
    public let useRSLoRA: Bool
    /// Drop probability on the adapter's input during training.
    public let dropout: Float
    /// Whether `scale·B·A` has been added into the base weight (the side path is then skipped).
    public internal(set) var isMerged = false
    /// The last forward's `u` and what it was computed from.
    private let lastProjection = Mutex<Projection?>(nil)

    /// `u` of one input: its storage (weakly: a freed input can never match), view and dropout seed.
    private struct Projection: @unchecked Sendable {
        weak var storage: (any DeviceStorage)?
        let byteOffset: Int
        let shape: [Int]
        let maskSeed: UInt64?
        let u: Tensor

        func matches(_ x: Tensor, _ seed: UInt64?) -> Bool {
            storage === x.storage && byteOffset == x.byteOffset && shape == x.shape && maskSeed == seed
        }
    }

    /// Wraps existing factors; A `[r, in]` and B `[out, r]` must agree on `r`.
    public init(moduleName: String, loraA: Parameter, loraB: Parameter, alpha: Double, dropout: Float,
                useRSLoRA: Bool) throws {
        guard loraA.shape.count == 2, loraB.shape.count == 2, loraA.shape[0] == loraB.shape[1], loraA.shape[0] > 0 else {
            throw TensorError.shapeMismatch(op: "LoRA \(moduleName): lora_A [r, in] and lora_B [out, r]",
                                            expected: "a shared rank r ≥ 1 (lora_B is \(loraB.shape))", got: loraA.shape)
        }
        guard dropout >= 0, dropout < 1 else {
            throw TensorError.invalidArgument(op: "LoRA \(moduleName)", reason: "dropout \(dropout) is outside [0, 1)")
        }
        self.moduleName = moduleName
        self.loraA = loraA
        self.loraB = loraB
        self.alpha = alpha
        self.dropout = dropout
        self.useRSLoRA = useRSLoRA
    }

    /// A new adapter for a `[out, in]` layer: A Kaiming-uniform from `generator`, B zero, both f32 masters read in
    /// `computeDType` (the model's: a bf16 model keeps a bf16 working copy of each, refreshed after every step).
    public convenience init(moduleName: String, inFeatures: Int, outFeatures: Int, rank: Int, alpha: Double,
                            dropout: Float, useRSLoRA: Bool, backend: any Backend, computeDType: DType = .f32,
                            generator: inout SeededGenerator) throws {
        guard rank >= 1 else {
            throw TensorError.invalidArgument(op: "LoRA \(moduleName)", reason: "rank \(rank) must be at least 1")
        }
        let bound = 1 / Double(inFeatures).squareRoot()
        let a = try backend.tensor(generator.uniforms(rank * inFeatures, in: -bound..<bound), shape: [rank, inFeatures])
        try self.init(moduleName: moduleName,
                      loraA: Parameter(name: moduleName + ".lora_A.weight", value: a, computeDType: computeDType),
                      loraB: Parameter(name: moduleName + ".lora_B.weight",
                                       value: try backend.zeros([outFeatures, rank], dtype: .f32),
                                       computeDType: computeDType),
                      alpha: alpha, dropout: dropout, useRSLoRA: useRSLoRA)
    }

    public var rank: Int { loraA.shape[0] }
    /// PEFT's `scaling`: `alpha / r`, or `alpha / √r` with rsLoRA.
    public var scale: Double { Self.scale(rank: rank, alpha: alpha, useRSLoRA: useRSLoRA) }

    public static func scale(rank: Int, alpha: Double, useRSLoRA: Bool) -> Double {
        useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank)
    }

    /// Both factors, A then B (PEFT's parameter order).
    public var parameters: [Parameter] { [loraA, loraB] }

    /// This module's mask seed for a step seed, or nil when no dropout is drawn (evaluation, or `dropout` 0).
    func maskSeed(_ stepSeed: UInt64?) -> UInt64? {
        guard let stepSeed, dropout > 0 else { return nil }
        return DropoutMask.moduleSeed(step: stepSeed, module: moduleName)
    }

    /// `u = dropout(x)·Aᵀ` `[N, r]`: one fused op under a mask (`Backend.loraDown`), else a plain product.
    private func projected(_ x: Tensor, maskSeed: UInt64?) throws -> Tensor {
        let backend = x.backend
        let u = try backend.empty([x.size(0), rank], dtype: x.dtype)  // (N, r)
        if let maskSeed {
            try backend.loraDown(x, a: loraA.compute, probability: dropout, seed: maskSeed, into: u)
        } else {
            try backend.matmul(x, loraA.compute, into: u, transposeA: false, transposeB: true, alpha: 1, beta: 0)
        }
        return u
    }

    /// `u` of the last forward when it was computed from `x` under `seed`, else a new one.
    private func projection(_ x: Tensor, maskSeed seed: UInt64?) throws -> Tensor {
        if let kept = lastProjection.withLock({ $0 }), kept.matches(x, seed) { return kept.u }
        return try projected(x, maskSeed: seed)
    }

    /// `y += scale · (dropout(x)·Aᵀ)·Bᵀ`; x `[N, in]`, y `[N, out]`.
    func addForward(input x: Tensor, into y: Tensor, stepSeed: UInt64?) throws {
        let seed = maskSeed(stepSeed)
        let projected = try projected(x, maskSeed: seed)
        lastProjection.withLock {
            $0 = Projection(storage: x.storage, byteOffset: x.byteOffset, shape: x.shape, maskSeed: seed, u: projected)
        }
        // y (N, out) += scale · projected (N, r) · Bᵀ (r, out)
        try x.backend.matmul(projected, loraB.compute, into: y, transposeA: false, transposeB: true,
                             alpha: Float(scale), beta: 1)
    }

    /// Accumulates `dA`, `dB` (when trainable) and adds the side path's `dL/dx` into `gradInput` `[N, in]`.
    ///
    /// With `u = dropout(x)·Aᵀ` and `du = scale · dy·B`: `dB += scale · dyᵀ·u`, `dA += duᵀ·dropout(x)`,
    /// `dx += dropout(du·A)` (the same mask: dropout's backward is itself).
    func backward(input x: Tensor, gradOutput dy: Tensor, accumulateInto gradInput: Tensor, stepSeed: UInt64?) throws {
        let backend = x.backend
        let seed = maskSeed(stepSeed)
        let n = x.size(0)
        if let dB = loraB.gradient {
            let projected = try projection(x, maskSeed: seed)  // (N, r): the forward's, or recomputed
            // dB (out, r) += scale · dyᵀ (out, N) · projected (N, r)
            try backend.matmul(dy, projected, into: dB, transposeA: true, transposeB: false, alpha: Float(scale), beta: 1)
        }
        let dProjected = try backend.empty([n, rank], dtype: dy.dtype)  // (N, r) = scale · dy (N, out) · B (out, r)
        try backend.matmul(dy, loraB.compute, into: dProjected, transposeA: false, transposeB: false,
                           alpha: Float(scale), beta: 0)
        if let dA = loraA.gradient {
            // dA (r, in) += dProjectedᵀ (r, N) · dropout(x) (N, in)
            if let seed {
                try backend.loraDownGradient(dProjected, x: x, probability: dropout, seed: seed, accumulateInto: dA)
            } else {
                try backend.matmul(dProjected, x, into: dA, transposeA: true, transposeB: false, alpha: 1, beta: 1)
            }
        }
        if let seed {
            // dx (N, in) += dropout(dProjected (N, r) · A (r, in)), the forward's mask
            try backend.loraInputGradient(dProjected, a: loraA.compute, probability: dropout, seed: seed,
                                          accumulateInto: gradInput)
        } else {
            // dx (N, in) += dProjected (N, r) · A (r, in)
            try backend.matmul(dProjected, loraA.compute, into: gradInput, transposeA: false, transposeB: false,
                               alpha: 1, beta: 1)
        }
    }

    /// `weight (out, in) += sign · scale · B (out, r) · A (r, in)` (a dense weight): into the weight's stored value
    /// (a frozen weight in the compute dtype, or a master), from the factors in the compute dtype. The caller
    /// refreshes the weight's working copy.
    func addDelta(to weight: Parameter, sign: Float) throws {
        let backend = weight.value.backend
        try backend.matmul(loraB.compute, loraA.compute, into: weight.value, transposeA: false, transposeB: false,
                           alpha: sign * Float(scale), beta: 1)
    }
}
