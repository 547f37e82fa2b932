// swift-tune CUDA kernels: what every module shares (included by each `Kernels/<module>.cu` as "common.cuh").
//
// Each `<module>.cu` is one family of plain, readable kernels following the `Backend` protocol's documented semantics
// (Sources/SwiftTuneTensor/Backend.swift), next to the `CUDABackend+<Family>.swift` that launches them; the CPU
// backend is the reference they are compared with. NVRTC compiles a module for the running GPU on the first launch
// of one of its kernels (KernelLibrary.swift), with this header passed in memory: no other headers are included, so
// only NVRTC's built-in declarations (math functions, atomics, warp shuffles) and inline PTX are used.
//
// Conventions:
// - Every kernel is `extern "C"` and named `<function>_<dtype>` (`rms_norm_f32`, `rms_norm_bf16`: one template over
//   the storage type, see "Storage types" below, with a one-line wrapper per dtype), so the Swift side finds it by
//   module, function and dtype (`KernelFunction`). A gradient accumulator is f32 in `<function>_<dtype>`; the
//   variant accumulating into the storage dtype is `<function>_into_<dtype>` (`sum_rows_into_bf16`). A kernel
//   without a dtype suffix takes its types as arguments (`cast_float`).
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

// MARK: - Dropout

// The 24 random bits of element `index` under `seed`: bit for bit DropoutMask.randomBits(seed:index:) in
// Sources/SwiftTuneTensor/DropoutMask.swift (32-bit words only: a 64-bit multiply costs several instructions).
__device__ __forceinline__ unsigned int dropout_bits(unsigned long long seed, long long index) {
    const unsigned long long i = (unsigned long long)index;
    unsigned int z = (((unsigned int)i + 1u) * 0x9E3779B9u) ^ (unsigned int)seed;
    z += ((unsigned int)(i >> 32) ^ (unsigned int)(seed >> 32)) * 0x85EBCA6Bu;
    z = (z ^ (z >> 16)) * 0x7FEB352Du;
    z = (z ^ (z >> 15)) * 0x846CA68Bu;
    z ^= z >> 16;
    return z >> 8;
}

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

// MARK: - Storage types: kernels written once over the element type

// Kernels over activations are templates over their storage type T, `float` or `bf16`, and compute in f32: they read
// with to_float, write with from_float<T> (round to nearest even), and are exported as `<function>_f32` and
// `<function>_bf16` by one-line `extern "C"` wrappers. Statistics (1/rms, log-sum-exp, sums of squares) stay float.
// A bf16 element as stored: the top 16 bits of an f32 (1 sign, 8 exponent, 7 mantissa bits).
struct bf16 {
    unsigned short bits;
};

__device__ __forceinline__ float to_float(float value) { return value; }
__device__ __forceinline__ float to_float(bf16 value) { return bf16_to_float(value.bits); }

template <typename T> __device__ __forceinline__ T from_float(float value);
template <> __device__ __forceinline__ float from_float<float>(float value) { return value; }
template <> __device__ __forceinline__ bf16 from_float<bf16>(float value) { return bf16{float_to_bf16(value)}; }

// Two consecutive elements in one access (float2 for f32, one 32-bit word for bf16); p must be pair_aligned.
__device__ __forceinline__ float2 load_pair(const float* p) { return *(const float2*)p; }
__device__ __forceinline__ float2 load_pair(const bf16* p) {
    const unsigned int word = *(const unsigned int*)p;
    return make_float2(bf16_to_float((unsigned short)(word & 0xffffu)), bf16_to_float((unsigned short)(word >> 16)));
}
__device__ __forceinline__ void store_pair(float* p, float2 value) { *(float2*)p = value; }
__device__ __forceinline__ void store_pair(bf16* p, float2 value) {
    *(unsigned int*)p = (unsigned int)float_to_bf16(value.x) | ((unsigned int)float_to_bf16(value.y) << 16);
}

// to[0..1] = from[0..1] bit for bit in one access; both must be pair_aligned.
template <typename T> struct alignas(2 * sizeof(T)) element_pair {
    T first, second;
};
template <typename T> __device__ __forceinline__ void copy_pair(T* to, const T* from) {
    *(element_pair<T>*)to = *(const element_pair<T>*)from;
}

// Whether p may be read two elements at a time (its address a multiple of two elements).
template <typename T> __device__ __forceinline__ bool pair_aligned(const T* p) {
    return ((unsigned long long)p & (2 * sizeof(T) - 1)) == 0;
}

// Grid-stride loop over `count` elements: with `paired`, pair(i) for every even i < count - 1 and single(count - 1)
// when count is odd; otherwise single(i) for every i. Each element is handled by exactly one call.
template <typename Pair, typename Single>
__device__ __forceinline__ void for_each_element(long long count, bool paired, Pair pair, Single single) {
    const long long start = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    const long long stride = (long long)gridDim.x * blockDim.x;
    if (!paired) {
        for (long long i = start; i < count; i += stride) single(i);
        return;
    }
    for (long long p = start; p < count / 2; p += stride) pair(2 * p);
    if ((count & 1) && start == 0) single(count - 1);
}

// out[i] = f(i, x[i]) for i < count, two elements per access when every pointer allows it; out may alias x.
template <typename T, typename F>
__device__ __forceinline__ void map_elements(T* out, const T* x, long long count, F f) {
    for_each_element(count, pair_aligned(out) && pair_aligned(x),
        [&](long long i) {
            const float2 v = load_pair(x + i);
            store_pair(out + i, make_float2(f(i, v.x), f(i + 1, v.y)));
        },
        [&](long long i) { out[i] = from_float<T>(f(i, to_float(x[i]))); });
}

// out[i] = f(i, a[i], b[i]) for i < count, two elements per access when every pointer allows it; out may alias a or b.
template <typename T, typename F>
__device__ __forceinline__ void map_elements(T* out, const T* a, const T* b, long long count, F f) {
    for_each_element(count, pair_aligned(out) && pair_aligned(a) && pair_aligned(b),
        [&](long long i) {
            const float2 u = load_pair(a + i), v = load_pair(b + i);
            store_pair(out + i, make_float2(f(i, u.x, v.x), f(i + 1, u.y, v.y)));
        },
        [&](long long i) { out[i] = from_float<T>(f(i, to_float(a[i]), to_float(b[i]))); });
}

// *address += value: hardware atomicAdd for f32; for bf16 a compare-and-swap on the aligned 32-bit word holding it,
// rounding the sum to bf16 (each addition rounds, so repeated adds to one element round repeatedly).
__device__ __forceinline__ void atomic_add(float* address, float value) { atomicAdd(address, value); }
__device__ __forceinline__ void atomic_add(bf16* address, float value) {
    unsigned int* word = (unsigned int*)((unsigned long long)address & ~3ull);
    const unsigned int shift = ((unsigned long long)address & 2ull) ? 16u : 0u;
    unsigned int old = *word, assumed;
    do {
        assumed = old;
        const float sum = bf16_to_float((unsigned short)((assumed >> shift) & 0xffffu)) + value;
        const unsigned int updated = (assumed & ~(0xffffu << shift)) | ((unsigned int)float_to_bf16(sum) << shift);
        old = atomicCAS(word, assumed, updated);
    } while (old != assumed);
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

// Dot product of a shared-memory f32 vector with a global bf16 one, accumulated in f32.
__device__ __forceinline__ float dot(const float* shared, const bf16* global, int length) {
    float sum = 0.0f;
    for (int d = 0; d < length; d++) sum += shared[d] * to_float(global[d]);
    return sum;
}
