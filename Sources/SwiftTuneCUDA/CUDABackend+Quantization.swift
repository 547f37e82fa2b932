import SwiftTuneQuantization
import SwiftTuneTensor

extension KernelFunction {
    /// `quantization.cu`.
    static let quantizationFunctions: [KernelFunction] = [dequantize4Bit, dequantize4BitEight, quantize4Bit]
    static let dequantize4BitEight = KernelFunction(.quantization, "dequantize_4bit_eight", dtypes: [.f32, .bf16])
    static let dequantize4Bit = KernelFunction(.quantization, "dequantize_4bit", dtypes: [.f32, .bf16])
    static let quantize4Bit = KernelFunction(.quantization, "quantize_4bit", dtypes: [.f32, .bf16])
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
        // Eight values a thread (one 4-byte load, 16-byte stores) when n and the block are multiples of 8 and the
        // buffers are aligned for them.
        let (packedAddress, outAddress) = (try address(weight.packed, op), try address(out, op))
        let eight = n % 8 == 0 && weight.blockSize % 8 == 0 && packedAddress % 4 == 0 && outAddress % 16 == 0
        try launchElementwise(eight ? .dequantize4BitEight : .dequantize4Bit, out.dtype, count: eight ? n / 8 : (n + 1) / 2, [
            .pointer(address(weight.packed, op)), .pointer(address(weight.absmax, op)),
            .pointer(address(weight.nested?.scales, op)), .pointer(address(weight.nested?.map, op)),
            .float32(weight.nested?.offset ?? 0), .int(Self.fourBitTypeCode(weight.quantType)),
            .int(weight.blockSize), .int(weight.nested?.blockSize ?? 1), .pointer(address(out, op)), .long(n),
        ])
    }
}

extension CUDABackend {
    /// One warp per block of values (`quantize_4bit_<dtype>`), bit for bit the CPU reference.
    public func quantize4Bit(_ values: Tensor, quantType: FourBitQuantType, blockSize: Int, packed: Tensor,
                             absmax: Tensor) throws {
        let op = "quantize4Bit(\(quantType))"
        let n = try OpCheck.quantize4Bit(values, quantType: quantType, blockSize: blockSize, packed: packed,
                                         absmax: absmax)
        try KernelLimits.fitsInt32([blockSize], op, values.shape)
        guard n > 0 else { return }
        try context.makeCurrent()
        let blocks = (n + blockSize - 1) / blockSize
        let warpsPerBlock = Self.elementwiseBlock / 32
        try launch(.quantize4Bit, values.dtype, grid: (min((blocks + warpsPerBlock - 1) / warpsPerBlock, 65_536), 1),
                   block: Self.elementwiseBlock, [
                       .pointer(address(values, op)), .int(Self.fourBitTypeCode(quantType)), .int(blockSize),
                       .pointer(address(packed, op)), .pointer(address(absmax, op)), .long(n),
                   ])
    }
}
