import SwiftTuneQuantization
import SwiftTuneTensor

/// A frozen `[out, in]` weight kept in a block format on the device (a GGUF file's Q4_K rows, later bitsandbytes
/// NF4), decoded where it is used instead of being expanded to floats at load time.
public struct QuantizedWeight: Sendable {
    /// The checkpoint key, e.g. `model.layers.0.mlp.up_proj.weight`.
    public let name: String
    /// `[out, in]`
    public let shape: [Int]
    public let format: BlockFormat
    /// u8, `out` rows of `format.rowByteCount(in)` bytes, in HF's row order.
    public let blocks: Tensor

    /// Checks that `blocks` holds exactly `shape[0]` rows of `shape[1]` values in `format`.
    public init(name: String, shape: [Int], format: BlockFormat, blocks: Tensor) throws {
        guard shape.count == 2, let rowBytes = format.rowByteCount(shape[1]) else {
            throw TensorError.shapeMismatch(op: "QuantizedWeight \(name) (\(format))",
                                            expected: "[out, in] with in a whole number of \(format.blockSize)-value blocks",
                                            got: shape)
        }
        guard blocks.dtype == .u8, blocks.count == shape[0] * rowBytes else {
            throw TensorError.shapeMismatch(op: "QuantizedWeight \(name) (\(format)) blocks",
                                            expected: "\(shape[0] * rowBytes) u8 bytes", got: blocks.shape)
        }
        self.name = name
        self.shape = shape
        self.format = format
        self.blocks = blocks
    }

    /// The weight decoded into a new `[out, in]` tensor of `dtype` on the blocks' backend.
    public func dequantized(dtype: DType) throws -> Tensor {
        let out = try blocks.backend.empty(shape, dtype: dtype)
        try blocks.backend.dequantize(blocks, format: format, into: out)
        return out
    }
}

/// A frozen `[out, in]` weight in bitsandbytes' 4-bit format (NF4/FP4, QLoRA's base), decoded into the activations'
/// dtype for each product by one kernel (`Backend.dequantize4Bit`).
public struct FourBitWeight: Sendable {
    /// The checkpoint key, e.g. `model.layers.0.mlp.up_proj.weight`.
    public let name: String
    /// `[out, in]`
    public let shape: [Int]
    public let tensors: FourBitWeightTensors

    /// Checks that `tensors` hold `shape`'s element count.
    public init(name: String, shape: [Int], tensors: FourBitWeightTensors) throws {
        let n = shape.reduce(1, *)
        guard shape.count == 2, tensors.packed.count == (n + 1) / 2,
              tensors.absmax.count == (n + tensors.blockSize - 1) / tensors.blockSize else {
            throw TensorError.shapeMismatch(op: "FourBitWeight \(name) (\(tensors.quantType))",
                                            expected: "[out, in] with \(tensors.packed.count * 2) values "
                                                + "(\(tensors.packed.count) packed bytes)",
                                            got: shape)
        }
        self.name = name
        self.shape = shape
        self.tensors = tensors
    }

    /// The weight decoded into a new `[out, in]` tensor of `dtype` on its backend.
    public func dequantized(dtype: DType) throws -> Tensor {
        let backend = tensors.packed.backend
        let out = try backend.empty(shape, dtype: dtype)
        try backend.dequantize4Bit(tensors, into: out)
        return out
    }
}

/// How a `Linear` layer stores its `[out, in]` weight.
public enum LinearWeight: Sendable {
    /// A dense matrix in the model's compute dtype; trainable in full fine-tuning.
    case dense(Parameter)
    /// Packed blocks, frozen; each product decodes them first (a fused kernel may skip the decoded copy).
    case quantized(QuantizedWeight)
    /// bitsandbytes 4-bit codes (QLoRA), frozen; each product decodes them first.
    case fourBit(FourBitWeight)

    /// The checkpoint key.
    public var name: String {
        switch self {
        case let .dense(parameter): parameter.name
        case let .quantized(weight): weight.name
        case let .fourBit(weight): weight.name
        }
    }

    /// `[out, in]`
    public var shape: [Int] {
        switch self {
        case let .dense(parameter): parameter.shape
        case let .quantized(weight): weight.shape
        case let .fourBit(weight): weight.shape
        }
    }

    /// The parameter of a dense weight; nil for a quantized one.
    public var parameter: Parameter? {
        if case let .dense(parameter) = self { return parameter }
        return nil
    }
}
