/// A weight quantized as bitsandbytes' `quantize_4bit` stores it (QLoRA's NF4 or FP4, with or without double
/// quantization), and the reference arithmetic that writes and reads it, bit for bit bitsandbytes' (checked against
/// goldens from bitsandbytes 0.50.2: `scripts/golden/make_nf4_goldens.py`). Format: `../shared/FORMATS.md` §8.
///
/// The weight is flattened row-major (`shape` only rides along) and cut into blocks of `blockSize` (64) values,
/// the last one possibly shorter; blocks do not follow rows. Each value is a 4-bit code, `codes[code] · absmax` of
/// its block, packed two to a byte: element `2j` in the high nibble, `2j + 1` in the low one (an odd count pads
/// with the code of 0). Double quantization stores each block's absmax as an 8-bit code of `absmax - offset`
/// (`offset` = their mean) under bitsandbytes' dynamic map, in blocks of 256 with one f32 scale each.
public struct BitsAndBytes4Bit: Sendable, Equatable {
    /// bitsandbytes' default (and QLoRA's) 4-bit block size.
    public static let defaultBlockSize = 64
    /// bitsandbytes' block size for the double quantization of the absmax.
    public static let nestedBlockSize = 256

    /// The absmax of each 4-bit block, plain or double-quantized.
    public enum Absmax: Sendable, Equatable {
        /// f32 `[blocks]`.
        case plain([Float])
        /// 8-bit codes of `absmax - offset`: bitsandbytes' `state2`.
        case nested(NestedAbsmax)
    }

    /// A double-quantized absmax: `absmax[b] = (map[codes[b]] · scales[b / blockSize]) + offset`, two f32 roundings.
    public struct NestedAbsmax: Sendable, Equatable {
        /// u8 `[blocks]`: checkpoints' `weight.absmax`.
        public var codes: [UInt8]
        /// f32 `[ceil(blocks / blockSize)]`: the absmax of each 256-block of `absmax - offset` (`weight.nested_absmax`).
        public var scales: [Float]
        /// f32 `[256]`: the 8-bit map (`weight.nested_quant_map`, `DynamicQuantizationMap.signed`).
        public var map: [Float]
        /// The mean of the absmax (`nested_offset` in the quant state).
        public var offset: Float
        /// Absmax values per scale (256).
        public var blockSize: Int

        public init(codes: [UInt8], scales: [Float], map: [Float], offset: Float,
                    blockSize: Int = BitsAndBytes4Bit.nestedBlockSize) {
            self.codes = codes
            self.scales = scales
            self.map = map
            self.offset = offset
            self.blockSize = blockSize
        }
    }

    public var quantType: FourBitQuantType
    /// The weight's shape (`[out, in]` for a linear layer); only its element count matters to the arithmetic.
    public var shape: [Int]
    /// Values per absmax (64).
    public var blockSize: Int
    /// u8 `[(n + 1) / 2]`: two codes a byte, element 2j in the high nibble.
    public var packed: [UInt8]
    public var absmax: Absmax

    /// Values in the weight.
    public var elementCount: Int { shape.reduce(1, *) }
    /// 4-bit blocks: `ceil(n / blockSize)`.
    public var blockCount: Int { Self.blockCount(elementCount, blockSize) }
    /// Whether the absmax is double-quantized.
    public var isDoubleQuantized: Bool { if case .nested = absmax { true } else { false } }

    /// A weight from its parts, checked for consistent sizes.
    /// - Throws: `invalidArgument` naming the part whose size disagrees with `shape` (expected vs got).
    public init(quantType: FourBitQuantType, shape: [Int], blockSize: Int = defaultBlockSize, packed: [UInt8],
                absmax: Absmax) throws(QuantizationError) {
        let op = "BitsAndBytes4Bit(\(quantType), shape \(shape))"
        guard blockSize > 0, shape.allSatisfy({ $0 >= 0 }) else {
            throw .invalidArgument(operation: op, reason: "block size \(blockSize) and shape must be positive")
        }
        let n = shape.reduce(1, *)
        let blocks = Self.blockCount(n, blockSize)
        func check(_ part: String, _ expected: Int, _ got: Int) throws(QuantizationError) {
            guard expected == got else {
                throw .invalidArgument(operation: op, reason: "\(part): expected \(expected) values, got \(got)")
            }
        }
        try check("packed codes ((n + 1) / 2 bytes)", (n + 1) / 2, packed.count)
        switch absmax {
        case let .plain(values):
            try check("absmax (one per \(blockSize) values)", blocks, values.count)
        case let .nested(nested):
            guard nested.blockSize > 0 else {
                throw .invalidArgument(operation: op, reason: "nested block size \(nested.blockSize) must be positive")
            }
            try check("absmax codes (one per \(blockSize) values)", blocks, nested.codes.count)
            try check("nested absmax (one per \(nested.blockSize) blocks)",
                      Self.blockCount(blocks, nested.blockSize), nested.scales.count)
            try check("nested quant map", 256, nested.map.count)
        }
        self.quantType = quantType
        self.shape = shape
        self.blockSize = blockSize
        self.packed = packed
        self.absmax = absmax
    }

    // MARK: Quantizing

    /// Quantizes `values` (row-major, `shape`'s element count) as bitsandbytes' `quantize_4bit(A, blocksize,
    /// quant_type, compress_statistics)` does on the CPU.
    ///
    /// Per block: `absmax = max |v|` (f32); a full block scales by `v · (1 / max(absmax, 1e-38))`, the shorter last
    /// block by `v / max(absmax, 1e-38)` (and stores the clamped absmax), both clamped to [-1, 1], as bitsandbytes'
    /// torch code does; the code is `FourBitQuantType.code(ofScaled:)` (a tie takes the lower code). With
    /// `doubleQuantization`, `offset = mean(absmax)` and `absmax - offset` go through
    /// `DynamicQuantizationMap.quantizeBlockwise` in blocks of 256.
    ///
    /// The offset is the f32 rounding of the exact mean (computed in Double); torch's f32 `mean` sums in its own
    /// order and may differ in the last place, so pass bitsandbytes' `offset` to reproduce its nested codes exactly.
    ///
    /// - Throws: `invalidArgument` when the count disagrees with `shape` or a value is NaN or infinite.
    public static func quantize(_ values: [Float], shape: [Int], quantType: FourBitQuantType,
                                doubleQuantization: Bool, blockSize: Int = defaultBlockSize,
                                offset: Float? = nil) throws(QuantizationError) -> BitsAndBytes4Bit {
        let op = "BitsAndBytes4Bit.quantize(\(quantType))"
        let n = shape.reduce(1, *)
        guard values.count == n, blockSize > 0 else {
            throw .invalidArgument(operation: op, reason: "expected \(n) values for shape \(shape), got \(values.count)")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw .invalidArgument(operation: op, reason: "value \(bad) is \(values[bad]) (NaN or infinite)")
        }
        let blocks = blockCount(n, blockSize)
        var absmax = [Float](repeating: 0, count: blocks)
        var codes = [UInt8](repeating: 0, count: n + (n & 1))
        let midpoints = quantType.midpoints
        let floor = Float(1e-38)
        for b in 0..<blocks {
            let range = (b * blockSize)..<min((b + 1) * blockSize, n)
            var blockMax: Float = 0
            for i in range { blockMax = Swift.max(blockMax, abs(values[i])) }
            let clamped = Swift.max(blockMax, floor)
            if range.count == blockSize {
                absmax[b] = blockMax
                let reciprocal = 1 / clamped
                for i in range {
                    codes[i] = quantType.code(ofScaled: Swift.min(Swift.max(values[i] * reciprocal, -1), 1),
                                              midpoints: midpoints)
                }
            } else {
                absmax[b] = clamped
                for i in range {
                    codes[i] = quantType.code(ofScaled: Swift.min(Swift.max(values[i] / clamped, -1), 1),
                                              midpoints: midpoints)
                }
            }
        }
        if n & 1 == 1 { codes[n] = quantType.code(ofScaled: 0, midpoints: midpoints) }
        var packed = [UInt8](repeating: 0, count: (n + 1) / 2)
        for j in 0..<packed.count { packed[j] = codes[2 * j] << 4 | codes[2 * j + 1] }
        let stored: Absmax = doubleQuantization ? .nested(nestedAbsmax(absmax, offset: offset)) : .plain(absmax)
        return try BitsAndBytes4Bit(quantType: quantType, shape: shape, blockSize: blockSize, packed: packed,
                                    absmax: stored)
    }

    /// Double-quantizes a 4-bit weight's absmax as bitsandbytes does: `offset = mean(absmax)` (or the one given),
    /// then `absmax - offset` (f32) quantized blockwise in blocks of 256 with `DynamicQuantizationMap.signed`.
    public static func nestedAbsmax(_ absmax: [Float], offset: Float? = nil) -> NestedAbsmax {
        let mean = offset ?? (absmax.isEmpty ? 0 : Float(absmax.reduce(0.0) { $0 + Double($1) } / Double(absmax.count)))
        let centered = absmax.map { $0 - mean }
        var codes = [UInt8](repeating: 0, count: absmax.count)
        var scales = [Float](repeating: 0, count: blockCount(absmax.count, nestedBlockSize))
        centered.withUnsafeBufferPointer { source in
            codes.withUnsafeMutableBufferPointer { codes in
                scales.withUnsafeMutableBufferPointer { scales in
                    DynamicQuantizationMap.quantizeBlockwise(source, map: DynamicQuantizationMap.signed,
                                                             blockSize: nestedBlockSize, codes: codes, absmax: scales)
                }
            }
        }
        return NestedAbsmax(codes: codes, scales: scales, map: DynamicQuantizationMap.signed, offset: mean)
    }

    // MARK: Dequantizing

    /// The f32 absmax of every block (decoded when double-quantized, as bitsandbytes' `dequantize_4bit` does first).
    public func blockAbsmax() -> [Float] {
        switch absmax {
        case let .plain(values): return values
        case let .nested(nested):
            var out = [Float](repeating: 0, count: nested.codes.count)
            Self.decodeNestedAbsmax(nested.codes, scales: nested.scales, map: nested.map, offset: nested.offset,
                                    blockSize: nested.blockSize, into: &out)
            return out
        }
    }

    /// `dequantize_4bit(…)` in float32: `codes[code] · absmax[i / blockSize]`, row-major `[elementCount]`.
    public func dequantize() -> [Float] {
        var out = [Float](repeating: 0, count: elementCount)
        let scales = blockAbsmax()
        packed.withUnsafeBufferPointer { packed in
            scales.withUnsafeBufferPointer { scales in
                out.withUnsafeMutableBufferPointer { out in
                    Self.decode(packed: packed.baseAddress!, absmax: scales.baseAddress!, count: elementCount,
                                quantType: quantType, blockSize: blockSize, into: out.baseAddress!)
                }
            }
        }
        return out
    }

    /// `dequantize_4bit(…)` in bfloat16 (bits): the f32 product rounded to nearest even, as bitsandbytes does.
    public func dequantizeBF16() -> [UInt16] { dequantize().map(GGMLQuantizer.bf16) }

    /// Decodes `count` packed 4-bit values with a decoded f32 absmax: the reference the backends share.
    ///
    /// packed u8 `[(count + 1) / 2]`; absmax f32 `[ceil(count / blockSize)]`; out f32 `[count]`.
    public static func decode(packed: UnsafePointer<UInt8>, absmax: UnsafePointer<Float>, count: Int,
                              quantType: FourBitQuantType, blockSize: Int, into out: UnsafeMutablePointer<Float>) {
        let codes = quantType.codes
        for i in 0..<count {
            let byte = packed[i >> 1]
            let code = i & 1 == 0 ? byte >> 4 : byte & 0x0F
            out[i] = codes[Int(code)] * absmax[i / blockSize]
        }
    }

    /// Decodes a double-quantized absmax: `(map[codes[b]] · scales[b / blockSize]) + offset`, rounding after the
    /// product and after the sum (bitsandbytes' `dequantize_blockwise`, then `absmax += offset`).
    public static func decodeNestedAbsmax(_ codes: [UInt8], scales: [Float], map: [Float], offset: Float,
                                          blockSize: Int, into out: inout [Float]) {
        for b in 0..<codes.count {
            let product = map[Int(codes[b])] * scales[b / blockSize]
            out[b] = product + offset
        }
    }

    static func blockCount(_ n: Int, _ blockSize: Int) -> Int { (n + blockSize - 1) / blockSize }
}
