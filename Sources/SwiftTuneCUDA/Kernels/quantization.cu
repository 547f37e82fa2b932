// Quantized weights: bitsandbytes 4-bit (NF4/FP4, QLoRA) encoding and decoding (CUDABackend+Quantization.swift).
// Conventions in common.cuh. The arithmetic is BitsAndBytes4Bit's (SwiftTuneQuantization), bit for bit: every product and sum is
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

// Eight values a thread step: dequantize_4bit for n and block multiples of 8 (every weight of a real model), one
// 4-byte load of codes and one 16-byte (bf16) or two 16-byte (f32) stores, the eight values in one block.
__device__ __forceinline__ void store_eight(float* out, const float* v) {
    *(float4*)out = make_float4(v[0], v[1], v[2], v[3]);
    *(float4*)(out + 4) = make_float4(v[4], v[5], v[6], v[7]);
}
__device__ __forceinline__ void store_eight(bf16* out, const float* v) {
    unsigned int w[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) w[k] = (unsigned int)float_to_bf16(v[2 * k]) | ((unsigned int)float_to_bf16(v[2 * k + 1]) << 16);
    *(uint4*)out = make_uint4(w[0], w[1], w[2], w[3]);
}

template <typename T>
__device__ void dequantize_4bit_eight(const unsigned char* packed, const void* absmax, const float* scales,
                                      const float* map, float offset, int quant_type, int block, int nested_block,
                                      T* out, long long n) {
    __shared__ float codes[16];
    if (threadIdx.x < 16)
        codes[threadIdx.x] = __uint_as_float(quant_type == QUANT_NF4 ? NF4_CODE_BITS[threadIdx.x] : FP4_CODE_BITS[threadIdx.x]);
    __syncthreads();
    const long long words = n / 8;
    for (long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x; j < words; j += (long long)gridDim.x * blockDim.x) {
        const unsigned int word = ((const unsigned int*)packed)[j];
        const float scale = block_absmax(absmax, scales, map, offset, nested_block, 8 * j / block);
        float v[8];
#pragma unroll
        for (int k = 0; k < 4; ++k) {  // byte k holds elements 2k (high nibble) and 2k + 1
            const unsigned int byte = (word >> (8 * k)) & 0xFFu;
            v[2 * k] = __fmul_rn(codes[byte >> 4], scale);
            v[2 * k + 1] = __fmul_rn(codes[byte & 0x0Fu], scale);
        }
        store_eight(out + 8 * j, v);
    }
}

extern "C" __global__ void dequantize_4bit_eight_f32(const unsigned char* packed, const void* absmax, const float* scales,
                                                     const float* map, float offset, int quant_type, int block,
                                                     int nested_block, float* out, long long n) {
    dequantize_4bit_eight<float>(packed, absmax, scales, map, offset, quant_type, block, nested_block, out, n);
}

extern "C" __global__ void dequantize_4bit_eight_bf16(const unsigned char* packed, const void* absmax, const float* scales,
                                                      const float* map, float offset, int quant_type, int block,
                                                      int nested_block, bf16* out, long long n) {
    dequantize_4bit_eight<bf16>(packed, absmax, scales, map, offset, quant_type, block, nested_block, out, n);
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

// The codes sorted by value (FourBitQuantType.sortedCodes): the quantizer's bucket order.
__constant__ unsigned char FP4_SORTED_CODES[16] = {11, 10, 13, 12, 15, 14, 9, 0, 8, 1, 6, 7, 4, 5, 2, 3};

// The code of a value already scaled into [-1, 1]: the number of midpoints strictly below x (a value on a midpoint
// takes the lower code), mapped through the sorted order (FourBitQuantType.code(ofScaled:)).
__device__ __forceinline__ unsigned char four_bit_code(float x, const float* midpoints, const unsigned char* order) {
    int position = 0;
#pragma unroll
    for (int k = 0; k < 15; ++k) position += midpoints[k] < x ? 1 : 0;
    return order[position];
}

// Encodes n values as bitsandbytes' quantize_4bit does (BitsAndBytes4Bit.quantize without double quantization, bit
// for bit), one warp per block of `block` values: absmax = max |v|; a full block scales by v * (1 / max(absmax,
// 1e-38)), the shorter last block by v / max(absmax, 1e-38) (and stores the clamped absmax); both clamped to [-1, 1].
// A block holding a NaN or an infinity stores absmax NaN (the Swift side reports it). An odd n pads the last byte's
// low nibble with the code of 0. x T [n]; packed u8 [(n + 1) / 2] out; absmax f32 [ceil(n / block)] out.
template <typename T>
__device__ void quantize_4bit(const T* x, int quant_type, int block, unsigned char* packed, float* absmax,
                              long long n) {
    __shared__ float midpoints[15];
    __shared__ unsigned char order[16];
    if (threadIdx.x < 16) order[threadIdx.x] = quant_type == QUANT_NF4 ? (unsigned char)threadIdx.x : FP4_SORTED_CODES[threadIdx.x];
    __syncthreads();
    if (threadIdx.x < 15) {
        const unsigned int* bits = quant_type == QUANT_NF4 ? NF4_CODE_BITS : FP4_CODE_BITS;
        const float a = __uint_as_float(bits[order[threadIdx.x]]), b = __uint_as_float(bits[order[threadIdx.x + 1]]);
        midpoints[threadIdx.x] = __fmul_rn(__fadd_rn(a, b), 0.5f);
    }
    __syncthreads();
    const int lane = threadIdx.x & 31;
    const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    const long long blocks = (n + block - 1) / block;
    for (long long b = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; b < blocks; b += warps) {
        const long long start = b * block, end = min(start + block, n);
        float largest = 0.0f;
        bool finite = true;
        for (long long i = start + lane; i < end; i += 32) {
            const float v = to_float(x[i]);
            finite = finite && isfinite(v);
            largest = fmaxf(largest, fabsf(v));
        }
        largest = warp_max(largest);
        finite = __all_sync(FULL_MASK, finite);
        const bool full = end - start == block;
        const float clamped = fmaxf(largest, 1e-38f), reciprocal = __frcp_rn(clamped);
        if (lane == 0) absmax[b] = finite ? (full ? largest : clamped) : __int_as_float(0x7fc00000);
        for (long long j = start / 2 + lane; 2 * j < end; j += 32) {
            const long long i = 2 * j;
            float s0 = to_float(x[i]);
            s0 = full ? __fmul_rn(s0, reciprocal) : __fdiv_rn(s0, clamped);
            const unsigned char high = four_bit_code(fminf(fmaxf(s0, -1.0f), 1.0f), midpoints, order);
            unsigned char low;
            if (i + 1 < end) {
                float s1 = to_float(x[i + 1]);
                s1 = full ? __fmul_rn(s1, reciprocal) : __fdiv_rn(s1, clamped);
                low = four_bit_code(fminf(fmaxf(s1, -1.0f), 1.0f), midpoints, order);
            } else {
                low = four_bit_code(0.0f, midpoints, order);
            }
            packed[j] = (unsigned char)((high << 4) | low);
        }
    }
}

extern "C" __global__ void quantize_4bit_f32(const float* x, int quant_type, int block, unsigned char* packed,
                                             float* absmax, long long n) {
    quantize_4bit<float>(x, quant_type, block, packed, absmax, n);
}

extern "C" __global__ void quantize_4bit_bf16(const bf16* x, int quant_type, int block, unsigned char* packed,
                                              float* absmax, long long n) {
    quantize_4bit<bf16>(x, quant_type, block, packed, absmax, n);
}
