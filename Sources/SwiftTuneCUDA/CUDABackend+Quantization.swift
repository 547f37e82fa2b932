import SwiftTuneQuantization
import SwiftTuneTensor

extension KernelFunction {
    /// `quantization.cu`.
    static let quantizationFunctions: [KernelFunction] = [dequantize4Bit]
    static let dequantize4Bit = KernelFunction(.quantization, "dequantize_4bit", dtypes: [.f32, .bf16])
}

/// bitsandbytes 4-bit weights: `dequantize_4bit_<dtype>` decodes the nested absmax and the codes in one grid-stride
/// kernel (one packed byte, two values, per thread step), bit for bit `BitsAndBytes4Bit.dequantize`.
extension CUDABackend {
    /// `QUANT_NF4` / `QUANT_FP4` in quantization.cu.
    static func fourBitTypeCode(_ type: FourBitQuantType) -> Int {
        switch type {
        case .nf4: 0
        case .fp4: 1
        }
    }

    public func dequantize4Bit(_ weight: FourBitWeightTensors, into out: Tensor) throws {
        let op = "dequantize4Bit(\(weight.quantType))"
        let n = try OpCheck.dequantize4Bit(weight, out: out)
        guard weight.blockSize % 2 == 0 else {
            throw TensorError.invalidArgument(op: op, reason: "the CUDA kernel needs an even block size, got \(weight.blockSize)")
        }
        try KernelLimits.fitsInt32([weight.blockSize, weight.nested?.blockSize ?? 1], op, out.shape)
        try context.makeCurrent()
        try launchElementwise(.dequantize4Bit, out.dtype, count: (n + 1) / 2, [
            .pointer(address(weight.packed, op)), .pointer(address(weight.absmax, op)),
            .pointer(address(weight.nested?.scales, op)), .pointer(address(weight.nested?.map, op)),
            .float32(weight.nested?.offset ?? 0), .int(Self.fourBitTypeCode(weight.quantType)),
            .int(weight.blockSize), .int(weight.nested?.blockSize ?? 1), .pointer(address(out, op)), .long(n),
        ])
    }
}
