/// The counter-based dropout mask shared by every backend: whether element `i` survives is a pure integer hash
/// of `(seed, i)`, so CPU and CUDA agree bit for bit, nothing is stored between forward and backward, and a
/// recomputed forward pass (gradient checkpointing) draws the same mask.
///
/// The hash works on 32-bit words (64-bit integer multiplies are several instructions each on a GPU, and the fused
/// LoRA kernels hash every input element): the index's low word `(lo + 1)·0x9E3779B9` is XORed with the seed's low
/// word, its high word XOR the seed's high word times 0x85EBCA6B is added, and the sum goes through the `lowbias32`
/// avalanche (two multiply-xorshift rounds, https://nullprogram.com/blog/2018/07/31/). Its top 24 bits are compared
/// with an integer threshold, so no float rounding can differ between devices. `Kernels/common.cuh`
/// (`dropout_bits`) repeats this arithmetic; change both together.
public enum DropoutMask {
    /// Random bits per decision: keep probabilities are multiples of 2⁻²⁴.
    public static let resolution: UInt32 = 1 << 24

    /// The 24 random bits of element `index` under `seed`.
    @inlinable
    public static func randomBits(seed: UInt64, index: Int) -> UInt32 {
        let i = UInt64(truncatingIfNeeded: index)
        let (low, high) = (UInt32(truncatingIfNeeded: i), UInt32(truncatingIfNeeded: i >> 32))
        var z = ((low &+ 1) &* 0x9E37_79B9) ^ UInt32(truncatingIfNeeded: seed)
        z = z &+ (high ^ UInt32(truncatingIfNeeded: seed >> 32)) &* 0x85EB_CA6B
        z = (z ^ (z >> 16)) &* 0x7FEB_352D
        z = (z ^ (z >> 15)) &* 0x846C_A68B
        z ^= z >> 16
        return z >> 8
    }

    /// The integer threshold for drop probability `probability` (clamped to [0, 1]): `⌈p · 2²⁴⌉`.
    public static func threshold(probability: Float) -> UInt32 {
        let clamped = min(max(Double(probability), 0), 1)
        return UInt32((clamped * Double(resolution)).rounded(.up))
    }

    /// Whether element `index` is kept: its random bits are at least the threshold (so `p = 0` keeps everything
    /// and `p = 1` nothing).
    @inlinable
    public static func keeps(seed: UInt64, index: Int, threshold: UInt32) -> Bool {
        randomBits(seed: seed, index: index) >= threshold
    }

    /// The factor kept elements are multiplied by: `1 / (1 − p)`, and 0 when `p = 1` (everything is dropped).
    public static func scale(probability: Float) -> Float {
        probability >= 1 ? 0 : Float(1 / (1 - Double(probability)))
    }

    /// A seed for one micro-batch of one optimizer step of a run, so every micro-batch draws fresh masks while a
    /// rerun (or a resumed run) draws the same ones.
    public static func stepSeed(run: UInt64, step: Int, microBatch: Int) -> UInt64 {
        mix(mix(mix(run) &+ UInt64(truncatingIfNeeded: step)) &+ UInt64(truncatingIfNeeded: microBatch))
    }

    /// The seed of one module's mask within a step: the step's seed mixed with a 64-bit FNV-1a hash of the module
    /// name (`model.layers.0.self_attn.q_proj`), so modules that share an input draw independent masks.
    public static func moduleSeed(step: UInt64, module name: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return mix(step ^ hash)
    }

    /// SplitMix64's finalizer.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
