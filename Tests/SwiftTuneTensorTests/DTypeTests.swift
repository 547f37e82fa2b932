import SwiftTuneCPU
import SwiftTuneTensor
import Testing

/// bf16 and f16 conversions: round to nearest, ties to even; NaN stays NaN; overflow goes to inf;
/// subnormals round like everything else. Bit patterns are spelled out so a failure shows which rule broke.
@Suite("16-bit float conversions")
struct DTypeTests {
    /// (f32 bits, expected bf16 bits, why)
    static let bf16Cases: [(UInt32, UInt16, String)] = [
        (0x3F80_0000, 0x3F80, "1 is exact"),
        (0x3F80_8000, 0x3F80, "tie between 1 and 1+2⁻⁷ goes to the even 1"),
        (0x3F81_8000, 0x3F82, "tie between 1+2⁻⁷ (odd) and 1+2⁻⁶ goes to the even one, up"),
        (0x3F80_8001, 0x3F81, "just above a tie rounds up"),
        (0x3F80_7FFF, 0x3F80, "just below a tie rounds down"),
        (0xBF80_8000, 0xBF80, "ties to even for negatives too"),
        (0x7F80_0000, 0x7F80, "+inf"),
        (0xFF80_0000, 0xFF80, "-inf"),
        (0x7F7F_FFFF, 0x7F80, "the largest f32 rounds up to inf"),
        (0x0000_0001, 0x0000, "the smallest subnormal rounds to 0"),
        (0x0000_8000, 0x0000, "a subnormal tie goes to the even 0"),
        (0x0001_8000, 0x0002, "a subnormal tie goes to the even 2"),
        (0x0001_0000, 0x0001, "the smallest bf16 subnormal is exact"),
        (0x8000_0000, 0x8000, "-0 keeps its sign"),
    ]

    @Test func bf16RoundsToNearestEven() {
        for (bits, expected, why) in Self.bf16Cases {
            let got = FloatBits.bf16(from: Float(bitPattern: bits))
            #expect(got == expected, "\(why): f32 0x\(String(bits, radix: 16)) → 0x\(String(got, radix: 16))")
        }
    }

    @Test func bf16KeepsNaNQuiet() {
        // A signaling NaN whose payload sits in the low 16 bits would truncate to inf; it must stay NaN.
        for bits: UInt32 in [0x7FC0_0000, 0x7F80_0001, 0xFF80_0001, 0x7FFF_FFFF] {
            let converted = FloatBits.float(fromBF16: FloatBits.bf16(from: Float(bitPattern: bits)))
            #expect(converted.isNaN, "f32 0x\(String(bits, radix: 16)) must stay NaN")
        }
    }

    /// (f32 value, expected f16 bits, why)
    static let f16Cases: [(Float, UInt16, String)] = [
        (1, 0x3C00, "1 is exact"),
        (1 + 0x1p-11, 0x3C00, "tie between 1 and 1+2⁻¹⁰ goes to the even 1"),
        (1 + 3 * 0x1p-11, 0x3C02, "tie between 1+2⁻¹⁰ (odd) and 1+2⁻⁹ goes up to the even one"),
        (65504, 0x7BFF, "the largest f16"),
        (65519, 0x7BFF, "below the midpoint to 65536 stays finite"),
        (65520, 0x7C00, "the midpoint ties to the even inf"),
        (.infinity, 0x7C00, "+inf"),
        (-.infinity, 0xFC00, "-inf"),
        (0x1p-24, 0x0001, "the smallest f16 subnormal"),
        (0x1p-25, 0x0000, "half the smallest subnormal ties to the even 0"),
        (3 * 0x1p-25, 0x0002, "1.5 × the smallest subnormal ties to the even 2"),
        (0x1p-26, 0x0000, "a quarter of the smallest subnormal rounds to 0"),
        (0x1p-14, 0x0400, "the smallest normal"),
    ]

    @Test func f16RoundsToNearestEven() {
        for (value, expected, why) in Self.f16Cases {
            let got = FloatBits.f16(from: value)
            #expect(got == expected, "\(why): \(value) → 0x\(String(got, radix: 16))")
        }
        #expect(FloatBits.float(fromF16: FloatBits.f16(from: .nan)).isNaN)
        #expect(FloatBits.float(fromF16: 0x0001) == 0x1p-24, "subnormals widen exactly")
    }

    /// Every bf16 and f16 bit pattern survives a trip through f32 (NaNs stay NaN).
    @Test func sixteenBitPatternsRoundTripThroughF32() {
        for bits in UInt16.min...UInt16.max {
            let bf16 = FloatBits.float(fromBF16: bits)
            #expect(bf16.isNaN || FloatBits.bf16(from: bf16) == bits, "bf16 0x\(String(bits, radix: 16))")
            let f16 = FloatBits.float(fromF16: bits)
            #expect(f16.isNaN || FloatBits.f16(from: f16) == bits, "f16 0x\(String(bits, radix: 16))")
        }
    }

    @Test(arguments: [DType.bf16, .f16, .f64])
    func backendCastRoundTrips(dtype: DType) throws {
        let backend: any Backend = CPUBackend()
        let values: [Float] = [0, -0.0, 1, -2.5, 3.140625, 1e-3, -65504, .infinity, -.infinity, 0x1p-24]
        let source = try backend.tensor(values, shape: [values.count])
        let narrow = try backend.converted(source, to: dtype)
        let back = try backend.floats(try backend.converted(narrow, to: .f32))
        let expected: [Float] = switch dtype {
        case .bf16: values.map { FloatBits.float(fromBF16: FloatBits.bf16(from: $0)) }
        case .f16: values.map { FloatBits.float(fromF16: FloatBits.f16(from: $0)) }
        default: values
        }
        #expect(back == expected)
        #expect(try backend.floats(narrow) == expected, "reading the \(dtype) tensor directly")
        let nan = try backend.converted(try backend.tensor([.nan], shape: [1]), to: dtype)
        #expect(try backend.floats(nan)[0].isNaN)
    }

    @Test func byteSizes() {
        #expect(DType.allCases.map(\.byteSize) == [4, 8, 2, 2, 4, 8, 1])
        #expect(DType.allCases.filter(\.isFloatingPoint) == [.f32, .f64, .bf16, .f16])
    }
}
