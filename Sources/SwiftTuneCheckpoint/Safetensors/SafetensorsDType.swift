import SwiftTuneTensor

/// Every dtype string the safetensors format defines (https://github.com/huggingface/safetensors, `Dtype`).
///
/// Cases are declared in the reference's order, which is increasing alignment; the writer sorts by
/// descending position in this list, then by name, as the reference writer does. Only the dtypes with a
/// `tensorDType` can be loaded into a `Tensor`; the rest can still be read as raw bytes.
public enum SafetensorsDType: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Boolean, one byte.
    case bool = "BOOL"
    /// 4-bit float (E2M1), packed two per byte.
    case f4 = "F4"
    /// 6-bit float, E2M3.
    case f6E2M3 = "F6_E2M3"
    /// 6-bit float, E3M2.
    case f6E3M2 = "F6_E3M2"
    /// Unsigned 8-bit integer.
    case u8 = "U8"
    /// Signed 8-bit integer.
    case i8 = "I8"
    /// 8-bit float, E5M2 (https://arxiv.org/abs/2209.05433).
    case f8E5M2 = "F8_E5M2"
    /// 8-bit float, E4M3 (FN variant).
    case f8E4M3 = "F8_E4M3"
    /// 8-bit exponent-only scale (microscaling formats).
    case f8E8M0 = "F8_E8M0"
    /// 8-bit float, E4M3 without negative zero.
    case f8E4M3FNUZ = "F8_E4M3FNUZ"
    /// 8-bit float, E5M2 without negative zero.
    case f8E5M2FNUZ = "F8_E5M2FNUZ"
    /// Signed 16-bit integer.
    case i16 = "I16"
    /// Unsigned 16-bit integer.
    case u16 = "U16"
    /// IEEE binary16.
    case f16 = "F16"
    /// bfloat16.
    case bf16 = "BF16"
    /// Signed 32-bit integer.
    case i32 = "I32"
    /// Unsigned 32-bit integer.
    case u32 = "U32"
    /// IEEE binary32.
    case f32 = "F32"
    /// Complex of two f32.
    case c64 = "C64"
    /// IEEE binary64.
    case f64 = "F64"
    /// Signed 64-bit integer.
    case i64 = "I64"
    /// Unsigned 64-bit integer.
    case u64 = "U64"

    /// The safetensors dtype that stores `dtype`.
    public init(_ dtype: DType) {
        switch dtype {
        case .f32: self = .f32
        case .f64: self = .f64
        case .bf16: self = .bf16
        case .f16: self = .f16
        case .i32: self = .i32
        case .i64: self = .i64
        case .u8: self = .u8
        }
    }

    /// Bits per element (4 and 6 for the packed float formats).
    public var bitSize: Int {
        switch self {
        case .f4: 4
        case .f6E2M3, .f6E3M2: 6
        case .bool, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ: 8
        case .i16, .u16, .f16, .bf16: 16
        case .i32, .u32, .f32: 32
        case .c64, .f64, .i64, .u64: 64
        }
    }

    /// The tensor dtype this loads into, or nil when the library has no such `DType`.
    public var tensorDType: DType? {
        switch self {
        case .f32: .f32
        case .f64: .f64
        case .bf16: .bf16
        case .f16: .f16
        case .i32: .i32
        case .i64: .i64
        case .u8: .u8
        default: nil
        }
    }

    /// Bytes taken by `shape`, or nil when the count overflows or is not a whole number of bytes.
    public func byteCount(shape: [Int]) -> Int? {
        // The product over the non-zero sizes must fit too, so an empty tensor cannot carry sizes whose product
        // (rows, elements of a slice) overflows wherever it is computed.
        var bits = bitSize
        for dimension in shape {
            let (product, overflow) = bits.multipliedReportingOverflow(by: max(dimension, 1))
            guard !overflow, dimension >= 0 else { return nil }
            bits = product
        }
        if shape.contains(0) { return 0 }
        return bits % 8 == 0 ? bits / 8 : nil
    }

    /// Position in the reference's alignment order (larger sorts first when writing).
    var alignmentRank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public var description: String { rawValue }
}
