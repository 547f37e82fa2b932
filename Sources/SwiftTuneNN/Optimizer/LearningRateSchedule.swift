#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Learning-rate schedules exactly as HF's `transformers.get_scheduler` builds them (a `LambdaLR` over the base
/// rate): the rate of update `k + 1` is `base · λ(k)`, where `k` counts the optimizer steps already taken.
///
/// With `w` warmup steps and `T` total steps, every kind but `constant` warms up linearly, `λ(k) = k / max(1, w)`
/// for `k < w` (so the first update has rate 0 when `w > 0`); after warmup:
/// - `linear`: `max(0, (T − k) / max(1, T − w))`
/// - `cosine` (half a cycle): `max(0, ½·(1 + cos(π · 0.5 · 2 · p)))` with `p = (k − w) / max(1, T − w)`
/// - `constantWithWarmup`: 1
/// - `constant`: 1 from the start; HF's `constant` ignores warmup.
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case linear
        case cosine
        case constant
        case constantWithWarmup = "constant_with_warmup"
    }

    public var kind: Kind
    public var baseLearningRate: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(kind: Kind, baseLearningRate: Double, warmupSteps: Int = 0, totalSteps: Int) {
        self.kind = kind
        self.baseLearningRate = baseLearningRate
        self.warmupSteps = max(0, warmupSteps)
        self.totalSteps = totalSteps
    }

    /// HF's `TrainingArguments.get_warmup_steps` (transformers 5): a value of at least 1 is a step count
    /// (truncated), a smaller one a fraction of the total, rounded up: `⌈T · value⌉`.
    public static func warmupSteps(_ value: Double, totalSteps: Int) -> Int {
        value >= 1 ? Int(value) : Int((Double(totalSteps) * value).rounded(.up))
    }

    /// ms-swift's two flags: `--warmup_steps` when positive, else `⌈T · warmup_ratio⌉`.
    public static func warmupSteps(steps: Int, ratio: Double, totalSteps: Int) -> Int {
        steps > 0 ? steps : warmupSteps(ratio, totalSteps: totalSteps)
    }

    /// `λ(step)`: the multiplier of the base rate after `step` optimizer steps.
    public func multiplier(afterSteps step: Int) -> Double {
        if kind == .constant { return 1 }
        if step < warmupSteps { return Double(step) / Double(max(1, warmupSteps)) }
        switch kind {
        case .constant, .constantWithWarmup:
            return 1
        case .linear:
            return max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps)))
        case .cosine:
            let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
            // Evaluated in HF's order: math.pi * float(num_cycles) * 2.0 * progress, num_cycles = 0.5.
            return max(0, 0.5 * (1 + cos(Double.pi * 0.5 * 2 * progress)))
        }
    }

    /// The learning rate of the next update after `step` optimizer steps: `base · λ(step)`.
    public func learningRate(afterSteps step: Int) -> Double {
        baseLearningRate * multiplier(afterSteps: step)
    }
}
