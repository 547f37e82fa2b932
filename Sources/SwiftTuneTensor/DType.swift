/// Element types a tensor can be stored in.
///
/// Compute on the CPU backend is f32; `bf16` and `f16` are storage types converted exactly
/// (round-to-nearest-even) by `Backend.cast`. `i32` holds token ids, positions and offsets;
/// `u8` holds raw and packed-quantized bytes; `i64` and `f64` exist so checkpoints that use them load.
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    case f32, f64, bf16, f16, i32, i64, u8

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .bf16, .f16: 2
        case .u8: 1
        }
    }

    /// Whether the type holds floating-point values.
    public var isFloatingPoint: Bool {
        switch self {
        case .f32, .f64, .bf16, .f16: true
        case .i32, .i64, .u8: false
        }
    }

    public var description: String { rawValue }
}

/// Exact conversions between f32 and the 16-bit storage formats.
public enum FloatBits {
    /// f32 → bf16 bits, round to nearest even; NaN stays a (quiet) NaN.
    @inlinable
    public static func bf16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// bf16 bits → f32 (exact).
    @inlinable
    public static func float(fromBF16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// f32 → IEEE binary16 bits, round to nearest even (the hardware conversion).
    @inlinable
    public static func f16(from value: Float) -> UInt16 {
        Float16(value).bitPattern
    }

    /// IEEE binary16 bits → f32 (exact).
    @inlinable
    public static func float(fromF16 bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }
}
