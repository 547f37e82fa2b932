import SwiftTuneQuantization

/// A bitsandbytes 4-bit weight (`BitsAndBytes4Bit`) on a device: the tensors `Backend.dequantize4Bit` reads.
public struct FourBitWeightTensors: Sendable {
    /// The double-quantization state of the absmax (bitsandbytes' `state2` and `offset`).
    public struct Nested: Sendable {
        /// f32 `[ceil(blocks / blockSize)]`.
        public var scales: Tensor
        /// f32 `[256]`: the 8-bit map.
        public var map: Tensor
        public var offset: Float
        /// Absmax values per scale (256).
        public var blockSize: Int

        public init(scales: Tensor, map: Tensor, offset: Float, blockSize: Int) {
            self.scales = scales
            self.map = map
            self.offset = offset
            self.blockSize = blockSize
        }
    }

    public var quantType: FourBitQuantType
    /// Values per absmax (64).
    public var blockSize: Int
    /// u8 `[(n + 1) / 2]`: two codes a byte, element 2j in the high nibble.
    public var packed: Tensor
    /// f32 `[blocks]`, or u8 `[blocks]` (8-bit codes) when `nested` is set.
    public var absmax: Tensor
    public var nested: Nested?

    public init(quantType: FourBitQuantType, blockSize: Int, packed: Tensor, absmax: Tensor, nested: Nested?) {
        self.quantType = quantType
        self.blockSize = blockSize
        self.packed = packed
        self.absmax = absmax
        self.nested = nested
    }

    /// Uploads `weight`'s packed codes and absmax state to `backend`.
    public init(_ weight: BitsAndBytes4Bit, on backend: any Backend) throws {
        let packed = try weight.packed.withUnsafeBytes {
            try backend.tensor(bytes: $0, shape: [weight.packed.count], dtype: .u8)
        }
        switch weight.absmax {
        case let .plain(values):
            self.init(quantType: weight.quantType, blockSize: weight.blockSize, packed: packed,
                      absmax: try backend.tensor(values, shape: [values.count]), nested: nil)
        case let .nested(state):
            let codes = try state.codes.withUnsafeBytes {
                try backend.tensor(bytes: $0, shape: [state.codes.count], dtype: .u8)
            }
            let nested = Nested(scales: try backend.tensor(state.scales, shape: [state.scales.count]),
                                map: try backend.tensor(state.map, shape: [256]), offset: state.offset,
                                blockSize: state.blockSize)
            self.init(quantType: weight.quantType, blockSize: weight.blockSize, packed: packed, absmax: codes,
                      nested: nested)
        }
    }
}

extension FourBitWeightTensors {
    /// Quantizes `values` (any shape, f32 or bf16, on its backend) as bitsandbytes does: the 4-bit codes and the
    /// absmax on the device (`Backend.quantize4Bit`), then with double quantization the absmax's 8-bit codes on the
    /// host (`BitsAndBytes4Bit.nestedAbsmax`, n / 64 values), uploaded beside the codes.
    ///
    /// - Parameter name: the weight's key, for the error a NaN or infinite value gets.
    public static func quantize(_ values: Tensor, _ quantization: FourBitQuantization,
                                name: String) throws -> FourBitWeightTensors {
        let backend = values.backend
        let n = values.count, blockSize = quantization.blockSize
        let packed = try backend.empty([(n + 1) / 2], dtype: .u8)
        let absmax = try backend.empty([(n + blockSize - 1) / blockSize], dtype: .f32)
        try backend.quantize4Bit(values, quantType: quantization.quantType, blockSize: blockSize, packed: packed,
                                 absmax: absmax)
        let scales = try backend.floats(absmax)
        if let bad = scales.firstIndex(where: { !$0.isFinite }) {
            throw TensorError.invalidArgument(
                op: "quantizing \(name) to \(quantization.quantType)",
                reason: "values \(bad * blockSize)..<\(min((bad + 1) * blockSize, n)) hold a NaN or an infinity "
                    + "(the checkpoint is damaged, or a training run diverged before it was saved)")
        }
        guard quantization.doubleQuantization else {
            return FourBitWeightTensors(quantType: quantization.quantType, blockSize: blockSize, packed: packed,
                                        absmax: absmax, nested: nil)
        }
        let state = BitsAndBytes4Bit.nestedAbsmax(scales)
        let codes = try state.codes.withUnsafeBytes { try backend.tensor(bytes: $0, shape: [state.codes.count], dtype: .u8) }
        let nested = Nested(scales: try backend.tensor(state.scales, shape: [state.scales.count]),
                            map: try backend.tensor(state.map, shape: [256]), offset: state.offset,
                            blockSize: state.blockSize)
        return FourBitWeightTensors(quantType: quantization.quantType, blockSize: blockSize, packed: packed,
                                    absmax: codes, nested: nested)
    }

    /// Device bytes held: the codes, the absmax (or its 8-bit codes) and the nested state.
    public var byteCount: Int {
        packed.byteCount + absmax.byteCount + (nested.map { $0.scales.byteCount + $0.map.byteCount } ?? 0)
    }
}
