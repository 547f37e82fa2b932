import SwiftTuneTensor

/// A named weight of a model and, when it is trained, its gradient.
///
/// The name is the checkpoint key (`model.layers.3.mlp.up_proj.weight`), so loading and saving are key matches.
/// Layers hold parameters by reference: the optimizer, the checkpoint writer and the layer see the same tensors.
public final class Parameter: @unchecked Sendable, CustomStringConvertible {
    /// The checkpoint key.
    public let name: String
    /// The current value (f32 for compute on the CPU backend).
    public var value: Tensor
    /// The accumulated gradient, same shape as `value`; nil when the parameter is frozen.
    public private(set) var gradient: Tensor?

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
    }

    public var isTrainable: Bool { gradient != nil }
    public var shape: [Int] { value.shape }

    /// Marks the parameter trainable (allocating a zeroed f32 gradient) or frozen (dropping it).
    public func setTrainable(_ trainable: Bool) throws {
        if trainable, gradient == nil {
            gradient = try value.backend.zeros(value.shape, dtype: .f32)
        } else if !trainable {
            gradient = nil
        }
    }

    /// Moves the value and the gradient into `value` and `gradient` (views of an optimizer's flat buffers, same
    /// shape and dtype), copying both; the layers see the new tensors, as they read `value` at every use.
    func rehome(value newValue: Tensor, gradient newGradient: Tensor) throws {
        try value.backend.copy(value, to: newValue)
        if let gradient { try gradient.backend.copy(gradient, to: newGradient) }
        value = newValue
        gradient = newGradient
    }

    /// Sets the gradient to zero (after an optimizer step).
    public func zeroGradient() throws {
        if let gradient { try gradient.backend.fill(gradient, with: 0) }
    }

    public var description: String { "\(name) \(value.shape)\(isTrainable ? " trainable" : "")" }
}
