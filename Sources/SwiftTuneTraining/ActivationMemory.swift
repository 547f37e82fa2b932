import Foundation
import SwiftTuneCheckpoint
import SwiftTuneModels
import SwiftTuneTensor

/// The memory a training step's activations need for its largest micro-batch, estimated before the first step so
/// that a batch that cannot fit is refused with the numbers instead of swapping the machine to death.
///
/// Per token, a decoder layer keeps for its backward pass (`LayerActivations`, values of `bytesPerValue` bytes):
/// the layer input, both norms' outputs and the residual (4·D), queries and attention output (2·Hq·hd), keys and
/// values (2·Hkv·hd), gate, up and their product (3·F), the attention log-sum-exp (Hq) and two inverse RMS values
/// (plus Hq·hd + Hkv·hd + Hq + Hkv with q/k norms). That is `keptPerLayer` values, `factor` times the hidden size.
/// Without gradient checkpointing every layer keeps them; with it, each recomputed layer keeps only its input (D) and
/// one layer's set is recomputed in the backward (`--recompute_num_layers` N: the layers above the first N keep
/// theirs). Either way the backward of one layer needs about one more such set of gradients, the model keeps about
/// 5·D per token outside the layers (embeddings, final norm, their gradients), and the fused lm_head + cross-entropy
/// holds one chunk of logits (`chunk × V`). LoRA's rank-sized intermediates are left out (a few percent at the usual
/// ranks).
public struct ActivationMemory: Sendable, CustomStringConvertible {
    /// Tokens in the largest micro-batch.
    public let tokens: Int
    public let layers: Int
    public let hiddenSize: Int
    /// Values one layer keeps per token for the backward pass.
    public let keptPerLayer: Int
    public let gradientCheckpointing: Bool
    /// Layers recomputed in the backward pass: every layer with gradient checkpointing (or the first
    /// `recompute_num_layers`), none without.
    public let recomputedLayers: Int
    /// Tokens × vocabulary of one lm_head chunk.
    public let lossChunkValues: Int
    public let bytesPerValue: Int

    public init(config: DecoderConfig, tokens: Int, gradientCheckpointing: Bool, recomputeNumLayers: Int? = nil,
                lossChunkSize: Int, bytesPerValue: Int = 4) {
        let d = config.hiddenSize, q = config.numAttentionHeads * config.headDim
        let kv = config.numKeyValueHeads * config.headDim, f = config.intermediateSize
        var kept = 4 * d + 2 * q + 2 * kv + 3 * f + config.numAttentionHeads + 2
        if config.qkNorm { kept += q + kv + config.numAttentionHeads + config.numKeyValueHeads }
        self.tokens = tokens
        layers = config.numHiddenLayers
        hiddenSize = d
        keptPerLayer = kept
        self.gradientCheckpointing = gradientCheckpointing
        recomputedLayers = DecoderModel.recomputedLayers(of: layers, gradientCheckpointing: gradientCheckpointing,
                                                         recomputeNumLayers: recomputeNumLayers)
        lossChunkValues = min(tokens, lossChunkSize) * config.vocabSize
        self.bytesPerValue = bytesPerValue
    }

    /// `keptPerLayer / hiddenSize`: the stated factor of "hidden size × layers × factor".
    public var factor: Double { Double(keptPerLayer) / Double(max(hiddenSize, 1)) }

    /// Values per token: what the layers keep, one layer's backward working set, and the model's own 5·D.
    public var valuesPerToken: Int {
        let whole = layers - recomputedLayers
        let layersKept = recomputedLayers * hiddenSize + (recomputedLayers > 0 ? keptPerLayer : 0) + whole * keptPerLayer
        return layersKept + keptPerLayer + 5 * hiddenSize
    }

    /// The estimate in bytes (saturating: a row of billions of tokens does not overflow).
    public var bytes: Int {
        let (perToken, o1) = valuesPerToken.multipliedReportingOverflow(by: bytesPerValue)
        let (body, o2) = perToken.multipliedReportingOverflow(by: tokens)
        let (total, o3) = body.addingReportingOverflow(lossChunkValues &* 4)  // the chunk's logits are f32
        return o1 || o2 || o3 ? Int.max : total
    }

    public var description: String {
        let whole = layers - recomputedLayers
        let wholeText = "\(whole) layers × \(keptPerLayer) (" + String(format: "%.1f", factor) + " × hidden \(hiddenSize))"
        let kept = recomputedLayers == 0 ? wholeText
            : "\(recomputedLayers) layer inputs of \(hiddenSize) + one recomputed layer of \(keptPerLayer)"
                + (whole > 0 ? " + " + wholeText : "")
        return "\(Self.format(bytes)) for \(tokens) tokens = \(tokens) × (\(kept) + \(keptPerLayer) backward working set "
            + "+ 5 × \(hiddenSize)) values × \(bytesPerValue) bytes + an lm_head chunk of \(lossChunkValues) f32 values"
    }

    /// Throws `activationsDoNotFit` when the estimate exceeds `available` bytes (nil: unknown, not checked).
    public func check(available: Int?, device: String) throws {
        guard let available, bytes > available else { return }
        var hints = ["a smaller --max_length"]
        if !gradientCheckpointing { hints.append("--gradient_checkpointing true") }
        if gradientCheckpointing && recomputedLayers < layers { hints.append("a larger --recompute_num_layers") }
        hints.append("a smaller --per_device_train_batch_size")
        throw TrainingError.activationsDoNotFit(estimate: description, neededBytes: bytes, availableBytes: available,
                                                device: device, hint: hints.joined(separator: ", or "))
    }

    /// Free memory for `backend`: `MemAvailable` of `/proc/meminfo` for the CPU backend; nil elsewhere (the Backend
    /// protocol reports no free device memory yet, so the check is skipped) or when the file is missing (macOS).
    public static func availableBytes(for backend: any Backend) -> Int? {
        guard backend.name == "cpu" else { return nil }
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        return memAvailable(meminfo: text)
    }

    /// `MemAvailable:   123456 kB` → bytes.
    static func memAvailable(meminfo text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    static func format(_ bytes: Int) -> String {
        if bytes == Int.max { return "more than 8 EiB" }
        if bytes < 1 << 30 { return String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return String(format: "%.2f GiB", Double(bytes) / 1_073_741_824)
    }
}
