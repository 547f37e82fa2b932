/// The two 4-bit data types of bitsandbytes' `quantize_4bit`: their 16 code values and how a scaled value picks one.
public enum FourBitQuantType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// NormalFloat4: quantiles of N(0, 1) scaled to [-1, 1], with an exact 0 (QLoRA, https://arxiv.org/abs/2305.14314).
    case nf4
    /// bitsandbytes' FP4: 1 sign, 2 exponent, 1 mantissa bit, normalized by 12 (`get_4bit_type("fp4")`).
    case fp4

    /// The 16 code values, by code (f32 bit patterns of `bitsandbytes.functional.get_4bit_type(type)`, except FP4's
    /// code 8, -0: bitsandbytes' C++ and CUDA decoders take code 8 as the sign bit of a zero, so it decodes to -0;
    /// its torch fallback, used only for an odd last dimension, reads +0 from `get_4bit_type`).
    public var codes: [Float] {
        switch self {
        case .nf4: Self.nf4Codes
        case .fp4: Self.fp4Codes
        }
    }

    /// The codes sorted by value, as `torch.argsort(code)` orders them in bitsandbytes' quantizer (for FP4 the
    /// two zeros, codes 0 and 8: code 0 first).
    public var sortedCodes: [UInt8] {
        switch self {
        case .nf4: Array(0...15)
        case .fp4: [11, 10, 13, 12, 15, 14, 9, 0, 8, 1, 6, 7, 4, 5, 2, 3]
        }
    }

    /// The 15 midpoints between neighbouring sorted codes, `(a + b) / 2` in f32.
    public var midpoints: [Float] {
        let values = sortedCodes.map { codes[Int($0)] }
        return (0..<15).map { (values[$0] + values[$0 + 1]) / 2 }
    }

    /// The code of a value already scaled into [-1, 1]: bitsandbytes' `torch.bucketize(x, midpoints)` (the number of
    /// midpoints strictly below `x`, so a value exactly on a midpoint takes the lower code), mapped back through
    /// `sortedCodes`.
    @inline(__always)
    func code(ofScaled x: Float, midpoints: [Float]) -> UInt8 {
        var position = 0
        while position < 15, midpoints[position] < x { position += 1 }
        return sortedCodes[position]
    }

    public var description: String { rawValue }

    private static let nf4Codes: [Float] = [
        0xBF80_0000, 0xBF32_39B1, 0xBF06_6B30, 0xBECA_32A0, 0xBE91_A24D, 0xBE3D_353F, 0xBDBA_7871, 0x0000_0000,
        0x3DA2_FAFF, 0x3E24_CAE3, 0x3E7C_04DD, 0x3EAD_033A, 0x3EE1_A4B8, 0x3F10_07AB, 0x3F39_13B3, 0x3F80_0000,
    ].map(Float.init(bitPattern:))

    private static let fp4Codes: [Float] = [
        0x0000_0000, 0x3BAA_AAAB, 0x3F2A_AAAB, 0x3F80_0000, 0x3EAA_AAAB, 0x3F00_0000, 0x3E2A_AAAB, 0x3E80_0000,
        0x8000_0000, 0xBBAA_AAAB, 0xBF2A_AAAB, 0xBF80_0000, 0xBEAA_AAAB, 0xBF00_0000, 0xBE2A_AAAB, 0xBE80_0000,
    ].map(Float.init(bitPattern:))
}
