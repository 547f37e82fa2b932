// swift-tune CUDA kernels: what every module shares (included by each `Kernels/<module>.cu` as "common.cuh").
//
// Each `<module>.cu` is one family of plain, readable kernels following the `Backend` protocol's documented semantics
// (Sources/SwiftTuneTensor/Backend.swift), next to the `CUDABackend+<Family>.swift` that launches them; the CPU
// backend is the reference they are compared with. NVRTC compiles a module for the running GPU on the first launch
// of one of its kernels (KernelLibrary.swift), with this header passed in memory: no other headers are included, so
// only NVRTC's built-in declarations (math functions, atomics, warp shuffles) and inline PTX are used.
//
// Conventions:
// - Every kernel is `extern "C"` and named `<function>_<dtype>` (`rms_norm_f32`; bf16 variants become template
//   instantiations exported as `<function>_bf16`), so the Swift side finds it by module, function and dtype
//   (`KernelFunction`). A kernel without a dtype suffix takes its types as arguments (`cast_float`).
// - Element counts and flat indices are `long long`; per-row sizes (columns, heads, head dims) are `int`.
// - Kernels that use block reductions need blockDim.x to be a multiple of 32 (full warps), at most 1024.
// - A null pointer argument (0) means "not given" where the protocol makes an output optional.
// - Scalars that change from step to step (AdamW's coefficients, a clip factor) are read from device memory, so a
//   step's launches stay the same and can be captured in a CUDA graph.

#pragma once

#define FULL_MASK 0xffffffffu
// Largest head dimension the attention kernels accept (the Swift side checks it).
#define MAX_HEAD_DIM 256
// Largest block size the attention kernels are launched with (the Swift side picks 128 or 256).
#define MAX_ATTENTION_BLOCK 256

__device__ __forceinline__ float negative_infinity() { return __int_as_float(0xff800000); }

// MARK: - Reductions

__device__ __forceinline__ float warp_sum(float value) {
    for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(FULL_MASK, value, offset);
    return value;
}

__device__ __forceinline__ float warp_max(float value) {
    for (int offset = 16; offset > 0; offset >>= 1) value = fmaxf(value, __shfl_xor_sync(FULL_MASK, value, offset));
    return value;
}

// Sum of `value` over the block, returned to every thread. `scratch`: 32 floats of shared memory.
__device__ float block_sum(float value, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    value = warp_sum(value);
    __syncthreads();  // an earlier reduction may still be reading scratch
    if (lane == 0) scratch[warp] = value;
    __syncthreads();
    return warp_sum(lane < warps ? scratch[lane] : 0.0f);
}

// Maximum of `value` over the block, returned to every thread. `scratch`: 32 floats of shared memory.
__device__ float block_max(float value, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    value = warp_max(value);
    __syncthreads();
    if (lane == 0) scratch[warp] = value;
    __syncthreads();
    return warp_max(lane < warps ? scratch[lane] : negative_infinity());
}

// (value, index) pairs: the larger value wins; equal values keep the lower index (the first maximum).
__device__ __forceinline__ void argmax_combine(float& value, int& index, float otherValue, int otherIndex) {
    if (otherValue > value || (otherValue == value && otherIndex < index)) {
        value = otherValue;
        index = otherIndex;
    }
}

// Index of the block-wide maximum (first one on ties), returned to every thread.
// `values`, `indices`: 32 entries of shared memory each.
__device__ int block_argmax(float value, int index, float* values, int* indices) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    for (int offset = 16; offset > 0; offset >>= 1) {
        argmax_combine(value, index, __shfl_xor_sync(FULL_MASK, value, offset),
                       __shfl_xor_sync(FULL_MASK, index, offset));
    }
    __syncthreads();
    if (lane == 0) {
        values[warp] = value;
        indices[warp] = index;
    }
    __syncthreads();
    value = lane < warps ? values[lane] : negative_infinity();
    index = lane < warps ? indices[lane] : 0x7fffffff;
    for (int offset = 16; offset > 0; offset >>= 1) {
        argmax_combine(value, index, __shfl_xor_sync(FULL_MASK, value, offset),
                       __shfl_xor_sync(FULL_MASK, index, offset));
    }
    return index;
}

// MARK: - bf16 and f16 bits (round to nearest even, as the CPU's FloatBits)

// f32 -> bf16 bits, round to nearest even; NaN stays a quiet NaN. Bit-for-bit the CPU's FloatBits.bf16(from:).
__device__ __forceinline__ unsigned short float_to_bf16(float value) {
    const unsigned int bits = __float_as_uint(value);
    if (value != value) return (unsigned short)((bits >> 16) | 0x40u);
    const unsigned int rounding = 0x7fffu + ((bits >> 16) & 1u);
    return (unsigned short)((bits + rounding) >> 16);
}

__device__ __forceinline__ float bf16_to_float(unsigned short bits) { return __uint_as_float(((unsigned int)bits) << 16); }

// f32 -> IEEE binary16 bits with the hardware's round-to-nearest-even conversion.
__device__ __forceinline__ unsigned short float_to_f16(float value) {
    unsigned short bits;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(bits) : "f"(value));
    return bits;
}

__device__ __forceinline__ float f16_to_float(unsigned short bits) {
    float value;
    asm("cvt.f32.f16 %0, %1;" : "=f"(value) : "h"(bits));
    return value;
}

// MARK: - Packed sequences

// The sequence index s whose rows offsets[s] <= token < offsets[s + 1] hold `token` (sequenceStarts, queryStarts).
// offsets: (sequences + 1) i32
__device__ int sequence_of(const int* offsets, int sequences, int token) {
    int low = 0, high = sequences - 1;  // largest s with offsets[s] <= token
    while (low < high) {
        const int middle = (low + high + 1) / 2;
        if (offsets[middle] <= token) low = middle; else high = middle - 1;
    }
    return low;
}

// Dot product of a shared-memory vector with a global one.
__device__ __forceinline__ float dot(const float* shared, const float* global, int length) {
    float sum = 0.0f;
    for (int d = 0; d < length; d++) sum += shared[d] * global[d];
    return sum;
}
