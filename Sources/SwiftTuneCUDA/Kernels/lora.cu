// LoRA's side path under dropout, without materialising dropout(x) (CUDABackend+LoRA.swift). Conventions in
// common.cuh. The mask is dropout_bits(seed, row * in + column) >= threshold, the counter hash of common.cuh, as training.cu's
// dropout over x [N, in], so these kernels agree bit for bit on which elements survive with the unfused path (and the
// CPU reference). Dropped values stay in f32 (x * scale is not rounded to the storage type), sums are f32.
// Templates over the storage type T and the rank R (4, 8, 16, 32); `in` is even and every row pointer pair-aligned
// (the Swift side checks both and otherwise composes dropout + matmul).

#include "common.cuh"

// dropout(x)[row, k..k+1] in f32.
template <typename T>
__device__ __forceinline__ float2 dropped_pair(const T* x, long long row, int in, int k, unsigned long long seed,
                                               unsigned int threshold, float scale) {
    const long long index = row * in + k;
    const float2 v = load_pair(x + index);
    return make_float2(dropout_bits(seed, index) >= threshold ? v.x * scale : 0.0f,
                       dropout_bits(seed, index + 1) >= threshold ? v.y * scale : 0.0f);
}

// Rows per block of lora_down: enough that each load of A serves several rows, few enough for the registers.
template <int R> struct LoRARows { static const int value = R <= 16 ? 4 : 2; };

// u[row, j] = sum_k dropout(x)[row, k] * a[j, k]: one block of 256 threads per ROWS rows, the threads splitting k in
// pairs, a block reduction per (row, j).  x: (n, in), a: (R, in), u: (n, R)
template <typename T, int R>
__device__ void lora_down(T* u, const T* x, const T* a, int n, int in, unsigned long long seed, int threshold,
                          float scale) {
    const int ROWS = LoRARows<R>::value;
    __shared__ float partial[8][ROWS * R];
    const int row0 = blockIdx.x * ROWS;
    float acc[ROWS][R];
#pragma unroll
    for (int r = 0; r < ROWS; ++r)
#pragma unroll
        for (int j = 0; j < R; ++j) acc[r][j] = 0.0f;
    for (int k = 2 * threadIdx.x; k < in; k += 2 * blockDim.x) {
        float2 d[ROWS];
#pragma unroll
        for (int r = 0; r < ROWS; ++r)
            d[r] = row0 + r < n ? dropped_pair(x, row0 + r, in, k, seed, (unsigned int)threshold, scale)
                                : make_float2(0.0f, 0.0f);
#pragma unroll
        for (int j = 0; j < R; ++j) {
            const float2 w = load_pair(a + (long long)j * in + k);
#pragma unroll
            for (int r = 0; r < ROWS; ++r) acc[r][j] = fmaf(d[r].x, w.x, fmaf(d[r].y, w.y, acc[r][j]));
        }
    }
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
#pragma unroll
    for (int r = 0; r < ROWS; ++r)
#pragma unroll
        for (int j = 0; j < R; ++j) {
            const float s = warp_sum(acc[r][j]);
            if (lane == 0) partial[warp][r * R + j] = s;
        }
    __syncthreads();
    for (int v = threadIdx.x; v < ROWS * R; v += blockDim.x) {
        const int row = row0 + v / R;
        if (row >= n) continue;
        float s = 0.0f;
        for (int w = 0; w < (int)(blockDim.x >> 5); ++w) s += partial[w][v];
        u[(long long)row * R + v % R] = from_float<T>(s);
    }
}

// dx[row, k] += keep(row, k) * scale * sum_j du[row, j] * a[j, k]: each thread one column pair of LORA_UP_ROWS rows
// (grid.x over column pairs, grid.y over row groups).  du: (n, R), a: (R, in), dx: (n, in)
#define LORA_UP_ROWS 4
template <typename T, int R>
__device__ void lora_input_gradient(T* dx, const T* du, const T* a, int n, int in, unsigned long long seed,
                                    int threshold, float scale) {
    const int k = 2 * (blockIdx.x * blockDim.x + threadIdx.x);
    if (k >= in) return;
    const int row0 = blockIdx.y * LORA_UP_ROWS;
    float2 acc[LORA_UP_ROWS];
#pragma unroll
    for (int r = 0; r < LORA_UP_ROWS; ++r) acc[r] = make_float2(0.0f, 0.0f);
#pragma unroll
    for (int j = 0; j < R; ++j) {
        const float2 w = load_pair(a + (long long)j * in + k);
#pragma unroll
        for (int r = 0; r < LORA_UP_ROWS; ++r) {
            if (row0 + r >= n) continue;
            const float g = to_float(du[(long long)(row0 + r) * R + j]);
            acc[r].x = fmaf(g, w.x, acc[r].x);
            acc[r].y = fmaf(g, w.y, acc[r].y);
        }
    }
#pragma unroll
    for (int r = 0; r < LORA_UP_ROWS; ++r) {
        const int row = row0 + r;
        if (row >= n) continue;
        const long long index = (long long)row * in + k;
        const float2 old = load_pair(dx + index);
        const float keep0 = dropout_bits(seed, index) >= (unsigned int)threshold ? scale : 0.0f;
        const float keep1 = dropout_bits(seed, index + 1) >= (unsigned int)threshold ? scale : 0.0f;
        store_pair(dx + index, make_float2(old.x + keep0 * acc[r].x, old.y + keep1 * acc[r].y));
    }
}

// Rows of du a block of lora_down_gradient stages in shared memory at a time (a multiple of its 8 warps, so each warp
// still walks its rows start + warp, start + warp + 8, ... in order: the same sums as one pass over the chunk).
#define LORA_TILE_ROWS 128

// The first half of dA += du^T * dropout(x): block (blockIdx.x, blockIdx.y) sums rows [y * chunk, (y + 1) * chunk)
// for 64 columns (a warp's 32 column pairs; its 8 warps split the rows) into partial[y, j, column] (f32). The rows'
// du values are read once per block into shared memory (f32), not R loads per row by every lane.
//   du: (n, R), x: (n, in), partial: (gridDim.y, R, in)
template <typename T, int R>
__device__ void lora_down_gradient_partial(float* partial, const T* du, const T* x, int n, int in, int chunk,
                                           unsigned long long seed, int threshold, float scale) {
    __shared__ float sums[R * 64];
    __shared__ float gradients[LORA_TILE_ROWS * R];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    const int k = blockIdx.x * 64 + 2 * lane;
    const int start = blockIdx.y * chunk, end = min(n, start + chunk);
    float2 acc[R];
#pragma unroll
    for (int j = 0; j < R; ++j) acc[j] = make_float2(0.0f, 0.0f);
    for (int tile = start; tile < end; tile += LORA_TILE_ROWS) {
        const int rows = min(LORA_TILE_ROWS, end - tile);
        __syncthreads();  // every warp is done with the previous tile
        for (int v = threadIdx.x; v < rows * R; v += blockDim.x) gradients[v] = to_float(du[(long long)tile * R + v]);
        __syncthreads();
        if (k < in) {
#pragma unroll 4
            for (int r = warp; r < rows; r += warps) {
                const float2 d = dropped_pair(x, tile + r, in, k, seed, (unsigned int)threshold, scale);
#pragma unroll
                for (int j = 0; j < R; ++j) {
                    const float g = gradients[r * R + j];
                    acc[j].x = fmaf(g, d.x, acc[j].x);
                    acc[j].y = fmaf(g, d.y, acc[j].y);
                }
            }
        }
    }
    for (int v = threadIdx.x; v < R * 64; v += blockDim.x) sums[v] = 0.0f;
    __syncthreads();
    for (int w = 0; w < warps; ++w) {  // warp by warp, in order: the same sums on every run
        if (warp == w)
#pragma unroll
            for (int j = 0; j < R; ++j) {
                sums[j * 64 + 2 * lane] += acc[j].x;
                sums[j * 64 + 2 * lane + 1] += acc[j].y;
            }
        __syncthreads();
    }
    for (int v = threadIdx.x; v < R * 64; v += blockDim.x) {
        const int j = v / 64, column = blockIdx.x * 64 + v % 64;
        if (column < in) partial[((long long)blockIdx.y * R + j) * in + column] = sums[v];
    }
}

// The second half: dA[j, column] += sum over chunks c (in order) of partial[c, j, column].
//   partial: (chunks, count), dA: (count) f32, count = R * in
extern "C" __global__ void lora_down_gradient_reduce(float* dA, const float* partial, int chunks, long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
        float s = 0.0f;
        for (int c = 0; c < chunks; ++c) s += partial[c * count + i];
        dA[i] += s;
    }
}

// The exported instantiations: every rank of KernelFunction.loraRanks, f32 and bf16 storage.
extern "C" __global__ void lora_down_r4_f32(float* u, const float* x, const float* a, int n, int in,
                                       unsigned long long seed, int threshold, float scale) {
    lora_down<float, 4>(u, x, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_input_gradient_r4_f32(float* dx, const float* du, const float* a, int n, int in,
                                                 unsigned long long seed, int threshold, float scale) {
    lora_input_gradient<float, 4>(dx, du, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_down_gradient_r4_f32(float* partial, const float* du, const float* x, int n, int in,
                                                int chunk, unsigned long long seed, int threshold, float scale) {
    lora_down_gradient_partial<float, 4>(partial, du, x, n, in, chunk, seed, threshold, scale);
}
extern "C" __global__ void lora_down_r4_bf16(bf16* u, const bf16* x, const bf16* a, int n, int in,
                                       unsigned long long seed, int threshold, float scale) {
    lora_down<bf16, 4>(u, x, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_input_gradient_r4_bf16(bf16* dx, const bf16* du, const bf16* a, int n, int in,
                                                 unsigned long long seed, int threshold, float scale) {
    lora_input_gradient<bf16, 4>(dx, du, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_down_gradient_r4_bf16(float* partial, const bf16* du, const bf16* x, int n, int in,
                                                int chunk, unsigned long long seed, int threshold, float scale) {
    lora_down_gradient_partial<bf16, 4>(partial, du, x, n, in, chunk, seed, threshold, scale);
}
extern "C" __global__ void lora_down_r8_f32(float* u, const float* x, const float* a, int n, int in,
                                       unsigned long long seed, int threshold, float scale) {
    lora_down<float, 8>(u, x, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_input_gradient_r8_f32(float* dx, const float* du, const float* a, int n, int in,
                                                 unsigned long long seed, int threshold, float scale) {
    lora_input_gradient<float, 8>(dx, du, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_down_gradient_r8_f32(float* partial, const float* du, const float* x, int n, int in,
                                                int chunk, unsigned long long seed, int threshold, float scale) {
    lora_down_gradient_partial<float, 8>(partial, du, x, n, in, chunk, seed, threshold, scale);
}
extern "C" __global__ void lora_down_r8_bf16(bf16* u, const bf16* x, const bf16* a, int n, int in,
                                       unsigned long long seed, int threshold, float scale) {
    lora_down<bf16, 8>(u, x, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_input_gradient_r8_bf16(bf16* dx, const bf16* du, const bf16* a, int n, int in,
                                                 unsigned long long seed, int threshold, float scale) {
    lora_input_gradient<bf16, 8>(dx, du, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_down_gradient_r8_bf16(float* partial, const bf16* du, const bf16* x, int n, int in,
                                                int chunk, unsigned long long seed, int threshold, float scale) {
    lora_down_gradient_partial<bf16, 8>(partial, du, x, n, in, chunk, seed, threshold, scale);
}
extern "C" __global__ void lora_down_r16_f32(float* u, const float* x, const float* a, int n, int in,
                                       unsigned long long seed, int threshold, float scale) {
    lora_down<float, 16>(u, x, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_input_gradient_r16_f32(float* dx, const float* du, const float* a, int n, int in,
                                                 unsigned long long seed, int threshold, float scale) {
    lora_input_gradient<float, 16>(dx, du, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_down_gradient_r16_f32(float* partial, const float* du, const float* x, int n, int in,
                                                int chunk, unsigned long long seed, int threshold, float scale) {
    lora_down_gradient_partial<float, 16>(partial, du, x, n, in, chunk, seed, threshold, scale);
}
extern "C" __global__ void lora_down_r16_bf16(bf16* u, const bf16* x, const bf16* a, int n, int in,
                                       unsigned long long seed, int threshold, float scale) {
    lora_down<bf16, 16>(u, x, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_input_gradient_r16_bf16(bf16* dx, const bf16* du, const bf16* a, int n, int in,
                                                 unsigned long long seed, int threshold, float scale) {
    lora_input_gradient<bf16, 16>(dx, du, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_down_gradient_r16_bf16(float* partial, const bf16* du, const bf16* x, int n, int in,
                                                int chunk, unsigned long long seed, int threshold, float scale) {
    lora_down_gradient_partial<bf16, 16>(partial, du, x, n, in, chunk, seed, threshold, scale);
}
extern "C" __global__ void lora_down_r32_f32(float* u, const float* x, const float* a, int n, int in,
                                       unsigned long long seed, int threshold, float scale) {
    lora_down<float, 32>(u, x, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_input_gradient_r32_f32(float* dx, const float* du, const float* a, int n, int in,
                                                 unsigned long long seed, int threshold, float scale) {
    lora_input_gradient<float, 32>(dx, du, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_down_gradient_r32_f32(float* partial, const float* du, const float* x, int n, int in,
                                                int chunk, unsigned long long seed, int threshold, float scale) {
    lora_down_gradient_partial<float, 32>(partial, du, x, n, in, chunk, seed, threshold, scale);
}
extern "C" __global__ void lora_down_r32_bf16(bf16* u, const bf16* x, const bf16* a, int n, int in,
                                       unsigned long long seed, int threshold, float scale) {
    lora_down<bf16, 32>(u, x, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_input_gradient_r32_bf16(bf16* dx, const bf16* du, const bf16* a, int n, int in,
                                                 unsigned long long seed, int threshold, float scale) {
    lora_input_gradient<bf16, 32>(dx, du, a, n, in, seed, threshold, scale);
}
extern "C" __global__ void lora_down_gradient_r32_bf16(float* partial, const bf16* du, const bf16* x, int n, int in,
                                                int chunk, unsigned long long seed, int threshold, float scale) {
    lora_down_gradient_partial<bf16, 32>(partial, du, x, n, in, chunk, seed, threshold, scale);
}
