import SwiftTuneTensor

/// A named weight of a model and, when it is trained, its gradient.
///
/// The name is the checkpoint key (`model.layers.3.mlp.up_proj.weight`), so loading and saving are key matches.
/// Layers hold parameters by reference: the optimizer, the checkpoint writer and the layer see the same tensors.
///
/// Precision (PyTorch AMP's split): a frozen weight is stored once, in the model's compute dtype. A trainable one
/// keeps an f32 master `value` with an f32 gradient (the optimizer's), and, when the compute dtype is 16-bit, a
/// `working` copy in that dtype which the forward and backward passes read (`compute`), refreshed from the master
/// after each change of it (`refreshCompute`, which `AdamW.step` calls).
public final class Parameter: @unchecked Sendable, CustomStringConvertible {
    /// The checkpoint key.
    public let name: String
    /// The stored value: a frozen weight in the compute dtype, or a trainable parameter's f32 master copy.
    public private(set) var value: Tensor
    /// The dtype ops read the parameter in (the model's compute dtype).
    public private(set) var computeDType: DType
    /// The copy of `value` in `computeDType` when the two dtypes differ (a trainable or f32-born parameter of a
    /// 16-bit model), else nil.
    public private(set) var working: Tensor?
    /// The accumulated gradient (f32), same shape as `value`; nil when the parameter is frozen.
    public private(set) var gradient: Tensor?

    /// A parameter computed in `value`'s dtype.
    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        computeDType = value.dtype
    }

    /// A parameter computed in `computeDType`: a dtype other than `value`'s makes a working copy (an f32 LoRA factor
    /// of a bf16 model).
    public convenience init(name: String, value: Tensor, computeDType: DType) throws {
        self.init(name: name, value: value)
        self.computeDType = computeDType
        if computeDType != value.dtype { working = try value.backend.converted(value, to: computeDType) }
    }

    public var isTrainable: Bool { gradient != nil }
    public var shape: [Int] { value.shape }

    /// The tensor forward and backward passes read: `value` in `computeDType`.
    public var compute: Tensor { working ?? value }

    /// Marks the parameter trainable (allocating a zeroed f32 gradient) or frozen (dropping it).
    ///
    /// Made trainable, a 16-bit value becomes an f32 master (widened exactly) and the 16-bit tensor its working copy;
    /// frozen again, the master and the working copy stay (the next training resumes from the master).
    public func setTrainable(_ trainable: Bool) throws {
        if trainable, gradient == nil {
            if value.dtype != .f32 {
                let master = try value.backend.converted(value, to: .f32)
                if value.dtype == computeDType { working = value }
                value = master
                try refreshCompute()
            }
            gradient = try value.backend.zeros(value.shape, dtype: .f32)
        } else if !trainable {
            gradient = nil
        }
    }

    /// Moves the value and the gradient into `value` and `gradient` (views of an optimizer's flat buffers, same
    /// shape and dtype), copying both; the layers see the new tensors, as they read `value` at every use.
    /// A `newWorking` view (of a flat working buffer in `computeDType`) takes the working copy's place too.
    func rehome(value newValue: Tensor, gradient newGradient: Tensor, working newWorking: Tensor? = nil) throws {
        try value.backend.copy(value, to: newValue)
        if let gradient { try gradient.backend.copy(gradient, to: newGradient) }
        value = newValue
        gradient = newGradient
        if let newWorking, let old = working {
            try old.backend.copy(old, to: newWorking)
            working = newWorking
        }
    }

    /// Rounds the master into the working copy (after an optimizer step or a load); nothing without one.
    public func refreshCompute() throws {
        if let working { try value.backend.cast(value, to: working) }
    }

    /// Sets the value from `source` (any float dtype, `value`'s element count), converted to `value`'s dtype, and
    /// refreshes the working copy: loading saved weights or adapters.
    public func assign(_ source: Tensor) throws {
        if source.dtype == value.dtype {
            try value.backend.copy(source, to: value)
        } else {
            try value.backend.cast(source, to: value)
        }
        try refreshCompute()
    }

    /// Sets the gradient to zero (after an optimizer step).
    public func zeroGradient() throws {
        if let gradient { try gradient.backend.fill(gradient, with: 0) }
    }

    public var description: String { "\(name) \(value.shape)\(isTrainable ? " trainable" : "")" }
}
