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
