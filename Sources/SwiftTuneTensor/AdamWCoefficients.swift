#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The scalars of one `Backend.adamW` step, computed on the host in `Double` exactly as `torch.optim.AdamW`
/// computes them in Python floats (`_single_tensor_adam`, decoupled weight decay), so every backend's kernel
/// only multiplies and adds in f32:
///
/// ```text
/// p ← p · decay                                  decay = 1 − lr·wd
/// m ← lerp(m, g, firstMomentWeight)              firstMomentWeight = 1 − β1
/// v ← v · beta2 + secondMomentWeight · g · g     secondMomentWeight = 1 − β2
/// p ← p + negativeStepSize · m / (√v / biasCorrection2Root + ε)
///                                                negativeStepSize = −lr / (1 − β1ᵗ), biasCorrection2Root = √(1 − β2ᵗ)
/// ```
///
/// `lerp(a, b, w)` is PyTorch's: `a + w·(b − a)` when `w < 0.5`, else `b − (b − a)·(1 − w)`.
///
/// On the device the step's scalars are one f32 tensor `[scalarCount]` (`scalars`, in the order above: decay,
/// firstMomentWeight, beta2, secondMomentWeight, biasCorrection2Root, epsilon, negativeStepSize), which
/// `Backend.adamW(parameter:gradient:firstMoment:secondMoment:scalars:)` reads, so a step's kernel arguments stay the
/// same from step to step (the seam for capturing a step as a CUDA graph).
public struct AdamWCoefficients: Sendable, Equatable {
    /// The number of f32 values in `scalars`.
    public static let scalarCount = 7

    public let decay: Double
    public let firstMomentWeight: Double
    public let beta2: Double
    public let secondMomentWeight: Double
    public let biasCorrection2Root: Double
    public let epsilon: Double
    public let negativeStepSize: Double

    /// Validates the hyperparameters (`op` names the caller in errors) and computes the step's scalars.
    public init(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double,
                step: Int, op: String = "adamW") throws {
        guard step >= 1 else {
            throw TensorError.invalidArgument(op: op, reason: "step is \(step); the first update is step 1")
        }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else {
            throw TensorError.invalidArgument(op: op, reason: "betas (\(beta1), \(beta2)) must lie in [0, 1)")
        }
        guard learningRate >= 0, epsilon >= 0, weightDecay >= 0, learningRate.isFinite, epsilon.isFinite,
              weightDecay.isFinite else {
            throw TensorError.invalidArgument(
                op: op, reason: "learning rate \(learningRate), epsilon \(epsilon) and weight decay \(weightDecay) "
                    + "must be finite and ≥ 0")
        }
        decay = 1 - learningRate * weightDecay
        firstMomentWeight = 1 - beta1
        self.beta2 = beta2
        secondMomentWeight = 1 - beta2
        biasCorrection2Root = (1 - pow(beta2, Double(step))).squareRoot()
        self.epsilon = epsilon
        negativeStepSize = -(learningRate / (1 - pow(beta1, Double(step))))
    }

    /// The scalars rounded to f32 once, as PyTorch rounds its Python floats to the tensor's dtype, in the order the
    /// kernels read them (see the type's documentation).
    public var scalars: [Float] {
        [decay, firstMomentWeight, beta2, secondMomentWeight, biasCorrection2Root, epsilon, negativeStepSize].map {
            Float($0)
        }
    }
}
