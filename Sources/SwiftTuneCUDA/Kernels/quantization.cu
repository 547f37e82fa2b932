// Quantized weights: bitsandbytes 4-bit (NF4/FP4, QLoRA) decoding (CUDABackend+Quantization.swift). Conventions in
// common.cuh. The arithmetic is BitsAndBytes4Bit's (SwiftTuneQuantization), bit for bit: every product and sum is
// rounded on its own (__fmul_rn / __fadd_rn: no FMA contraction), as bitsandbytes' dequantize_4bit computes.

#include "common.cuh"

// The 16 code values of each 4-bit type by code, as f32 bits (FourBitQuantType.codes: FP4's code 8 is -0).
__constant__ unsigned int NF4_CODE_BITS[16] = {
    0xBF800000u, 0xBF3239B1u, 0xBF066B30u, 0xBECA32A0u, 0xBE91A24Du, 0xBE3D353Fu, 0xBDBA7871u, 0x00000000u,
    0x3DA2FAFFu, 0x3E24CAE3u, 0x3E7C04DDu, 0x3EAD033Au, 0x3EE1A4B8u, 0x3F1007ABu, 0x3F3913B3u, 0x3F800000u,
};
__constant__ unsigned int FP4_CODE_BITS[16] = {
    0x00000000u, 0x3BAAAAABu, 0x3F2AAAABu, 0x3F800000u, 0x3EAAAAABu, 0x3F000000u, 0x3E2AAAABu, 0x3E800000u,
    0x80000000u, 0xBBAAAAABu, 0xBF2AAAABu, 0xBF800000u, 0xBEAAAAABu, 0xBF000000u, 0xBE2AAAABu, 0xBE800000u,
};

// Quant types shared with the Swift side (CUDABackend.fourBitTypeCode).
#define QUANT_NF4 0
#define QUANT_FP4 1

// The absmax of 4-bit block b: absmax[b] (f32), or with double quantization (codes u8)
// (map[codes[b]] * scales[b / nested_block]) + offset, rounded after the product and after the sum.
__device__ __forceinline__ float block_absmax(const void* absmax, const float* scales, const float* map, float offset,
                                              int nested_block, long long b) {
    if (scales == nullptr) return ((const float*)absmax)[b];
    const unsigned char q = ((const unsigned char*)absmax)[b];
    return __fadd_rn(__fmul_rn(map[q], scales[b / nested_block]), offset);
}

// out[i] = code[nibble i] * absmax(i / block) for the n values of one weight, one packed byte (two values) per
// thread step: element 2j is byte j's high nibble, 2j + 1 its low one. The nested absmax is decoded inline, so a
// double-quantized weight needs one kernel and no f32 absmax buffer.
// packed u8 [(n + 1) / 2]; absmax f32 [blocks] or u8 [blocks] (scales non-null); scales f32 [ceil(blocks /
// nested_block)]; map f32 [256]; out T [n].
template <typename T>
__device__ void dequantize_4bit(const unsigned char* packed, const void* absmax, const float* scales,
                                const float* map, float offset, int quant_type, int block, int nested_block,
                                T* out, long long n) {
    __shared__ float codes[16];
    if (threadIdx.x < 16)
        codes[threadIdx.x] = __uint_as_float(quant_type == QUANT_NF4 ? NF4_CODE_BITS[threadIdx.x] : FP4_CODE_BITS[threadIdx.x]);
    __syncthreads();
    const long long bytes = (n + 1) / 2;
    for (long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x; j < bytes; j += (long long)gridDim.x * blockDim.x) {
        const unsigned char byte = packed[j];
        const long long i = 2 * j;
        // block is even (a power of two in bitsandbytes), so elements 2j and 2j + 1 share a block.
        const float scale = block_absmax(absmax, scales, map, offset, nested_block, i / block);
        out[i] = from_float<T>(__fmul_rn(codes[byte >> 4], scale));
        if (i + 1 < n) out[i + 1] = from_float<T>(__fmul_rn(codes[byte & 0x0F], scale));
    }
}

extern "C" __global__ void dequantize_4bit_f32(const unsigned char* packed, const void* absmax, const float* scales,
                                               const float* map, float offset, int quant_type, int block,
                                               int nested_block, float* out, long long n) {
    dequantize_4bit<float>(packed, absmax, scales, map, offset, quant_type, block, nested_block, out, n);
}

extern "C" __global__ void dequantize_4bit_bf16(const unsigned char* packed, const void* absmax, const float* scales,
                                                const float* map, float offset, int quant_type, int block,
                                                int nested_block, bf16* out, long long n) {
    dequantize_4bit<bf16>(packed, absmax, scales, map, offset, quant_type, block, nested_block, out, n);
}
