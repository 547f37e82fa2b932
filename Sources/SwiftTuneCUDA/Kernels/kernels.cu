// swift-tune CUDA kernels: plain, readable f32 kernels that follow the `Backend` protocol's documented semantics
// (Sources/SwiftTuneTensor/Backend.swift). The CPU backend is the reference they are compared with.
//
// Compiled at run time by NVRTC for the running GPU (see CUDABackend.swift); no headers are included, so only
// NVRTC's built-in declarations (math functions, atomics, warp shuffles) and inline PTX are used.
// Every kernel is `extern "C"` so the Swift side finds it by name (Kernel.swift lists the names it launches).
//
// Conventions:
// - Element counts and flat indices are `long long`; per-row sizes (columns, heads, head dims) are `int`.
// - Kernels that use block reductions need blockDim.x to be a multiple of 32 (full warps), at most 1024.
// - A null pointer argument (0) means "not given" where the protocol makes an output optional.

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

// MARK: - Memory: fill and cast

// out[i] = value for a f64 tensor (f32 and 16-bit fills use cuMemsetD32/D16).
extern "C" __global__ void fill_f64(double* out, double value, long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        out[i] = value;
}

// Storage type codes shared with the Swift side (CUDABackend.castCode).
#define TYPE_F32 0
#define TYPE_F64 1
#define TYPE_BF16 2
#define TYPE_F16 3

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

// out = in converted between float storage types (codes above); like the CPU, everything goes through f32
// except f32 -> f64, which widens exactly. Same-type casts never get here (they are copies).
extern "C" __global__ void cast_float(const void* in, int inType, void* out, int outType, long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
        float value;
        switch (inType) {
            case TYPE_F32: value = ((const float*)in)[i]; break;
            case TYPE_F64: value = (float)((const double*)in)[i]; break;  // round to nearest even
            case TYPE_BF16: value = bf16_to_float(((const unsigned short*)in)[i]); break;
            default: value = f16_to_float(((const unsigned short*)in)[i]); break;
        }
        switch (outType) {
            case TYPE_F32: ((float*)out)[i] = value; break;
            case TYPE_F64: ((double*)out)[i] = (double)value; break;
            case TYPE_BF16: ((unsigned short*)out)[i] = float_to_bf16(value); break;
            default: ((unsigned short*)out)[i] = float_to_f16(value); break;
        }
    }
}

// MARK: - Elementwise and reductions

// out = a + scale * b; out may alias a or b.  a, b, out: (count)
extern "C" __global__ void add_f32(float* out, const float* a, const float* b, float scale, long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        out[i] = a[i] + scale * b[i];
}

// out = factor * x; out may alias x.  x, out: (count)
extern "C" __global__ void scale_f32(float* out, const float* x, float factor, long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        out[i] = factor * x[i];
}

// out[n, c] = x[n, c] + bias[c].  x, out: (rows, columns), bias: (columns)
extern "C" __global__ void add_bias_f32(float* out, const float* x, const float* bias, long long rows, int columns) {
    const long long count = rows * columns;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        out[i] = x[i] + bias[i % columns];
}

// out[c] (+)= sum over n of x[n, c]; one thread per column, rows summed in order (deterministic).
// x: (rows, columns), out: (columns)
extern "C" __global__ void sum_rows_f32(float* out, const float* x, long long rows, int columns, int accumulate) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= columns) return;
    float sum = 0.0f;
    for (long long n = 0; n < rows; n++) sum += x[n * columns + c];
    out[c] = accumulate ? out[c] + sum : sum;
}

// out[0] += sum of x^2 over a grid-stride slice per block (the host zeroes out first unless accumulating).
// x: (count), out: (1)
extern "C" __global__ void sum_of_squares_f32(float* out, const float* x, long long count) {
    __shared__ float scratch[32];
    float sum = 0.0f;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        sum += x[i] * x[i];
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) atomicAdd(out, sum);
}

// MARK: - Embedding

// out[n, :] = table[ids[n], :]; an id outside 0..<vocabulary gives a zero row (the host cannot check ids
// without reading device memory).  ids: (rows) i32, table: (vocabulary, dim), out: (rows, dim)
extern "C" __global__ void embedding_f32(float* out, const int* ids, const float* table, long long rows, int dim,
                                         int vocabulary) {
    const long long count = rows * dim;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
        const long long n = i / dim;
        const int d = (int)(i % dim);
        const int id = ids[n];
        out[i] = (id >= 0 && id < vocabulary) ? table[(long long)id * dim + d] : 0.0f;
    }
}

// gradTable[ids[n], :] += gradOut[n, :] (atomic scatter-add: repeated ids accumulate; bad ids are skipped).
// ids: (rows) i32, gradOut: (rows, dim), gradTable: (vocabulary, dim)
extern "C" __global__ void embedding_backward_f32(float* gradTable, const int* ids, const float* gradOut, long long rows,
                                                  int dim, int vocabulary) {
    const long long count = rows * dim;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
        const long long n = i / dim;
        const int d = (int)(i % dim);
        const int id = ids[n];
        if (id >= 0 && id < vocabulary) atomicAdd(&gradTable[(long long)id * dim + d], gradOut[i]);
    }
}

// MARK: - RMSNorm (https://arxiv.org/abs/1910.07467)

// One block per row: r = rsqrt(mean(x^2) + epsilon); out = x * r * weight; inverseRMS[n] = r when given.
// x, out: (rows, dim), weight: (dim), inverseRMS: (rows) or null
extern "C" __global__ void rms_norm_f32(float* out, float* inverseRMS, const float* x, const float* weight, int dim,
                                        float epsilon) {
    __shared__ float scratch[32];
    const long long row = blockIdx.x;
    const float* xr = x + row * dim;
    float sum = 0.0f;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) sum += xr[d] * xr[d];
    sum = block_sum(sum, scratch);
    const float r = rsqrtf(sum / (float)dim + epsilon);
    for (int d = threadIdx.x; d < dim; d += blockDim.x) out[row * dim + d] = xr[d] * r * weight[d];
    if (inverseRMS != 0 && threadIdx.x == 0) inverseRMS[row] = r;
}

// One block per row: with y = x * r * w and g = dL/dy,
// dL/dx[k] = r * w[k] * g[k] - x[k] * r^3 / dim * sum_j(g[j] * w[j] * x[j]).
// x, gradOut, gradIn: (rows, dim), weight: (dim), inverseRMS: (rows)
extern "C" __global__ void rms_norm_backward_f32(float* gradIn, const float* x, const float* weight,
                                                 const float* inverseRMS, const float* gradOut, int dim) {
    __shared__ float scratch[32];
    const long long row = blockIdx.x;
    const float* xr = x + row * dim;
    const float* gr = gradOut + row * dim;
    const float r = inverseRMS[row];
    float dot = 0.0f;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) dot += gr[d] * weight[d] * xr[d];
    dot = block_sum(dot, scratch);
    const float coefficient = r * r * r * dot / (float)dim;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) gradIn[row * dim + d] = r * weight[d] * gr[d] - xr[d] * coefficient;
}

// gradWeight[d] += sum over rows of gradOut[n, d] * x[n, d] * inverseRMS[n]; one thread per column (deterministic).
extern "C" __global__ void rms_norm_weight_gradient_f32(float* gradWeight, const float* x, const float* inverseRMS,
                                                        const float* gradOut, long long rows, int dim) {
    const int d = blockIdx.x * blockDim.x + threadIdx.x;
    if (d >= dim) return;
    float sum = 0.0f;
    for (long long n = 0; n < rows; n++) sum += gradOut[n * dim + d] * x[n * dim + d] * inverseRMS[n];
    gradWeight[d] += sum;
}

// MARK: - RoPE (https://arxiv.org/abs/2104.09864), HF rotate-half layout

// One thread per (token, head, pair i < headDim/2): the pair is (x[i], x[i + headDim/2]), the angle is
// positions[n] * inverseFrequencies[i], and cos/sin are scaled by attentionScaling.
// forward:  (a, b) -> (a cos - b sin, b cos + a sin); inverse (the transposed rotation): (a cos + b sin, b cos - a sin).
// x, out: (tokens, heads, headDim), positions: (tokens) i32, inverseFrequencies: (headDim/2). out may alias x.
extern "C" __global__ void rope_f32(float* out, const float* x, const int* positions, const float* inverseFrequencies,
                                    long long tokens, int heads, int headDim, float attentionScaling, int inverse) {
    const int half = headDim / 2;
    const long long count = tokens * heads * half;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < count; t += (long long)gridDim.x * blockDim.x) {
        const int i = (int)(t % half);
        const long long vector = t / half;  // token * heads + head
        const long long n = vector / heads;
        const float angle = (float)positions[n] * inverseFrequencies[i];
        const float c = cosf(angle) * attentionScaling;
        const float s = sinf(angle) * attentionScaling;
        const long long base = vector * headDim;
        const float a = x[base + i], b = x[base + i + half];
        if (inverse) {
            out[base + i] = a * c + b * s;
            out[base + i + half] = b * c - a * s;
        } else {
            out[base + i] = a * c - b * s;
            out[base + i + half] = b * c + a * s;
        }
    }
}

// MARK: - Attention (causal, packed sequences, grouped-query heads, optional sliding window)

// The sequence holding `token`: start (inclusive) and end (exclusive).  sequenceStarts: (sequences + 1) i32
__device__ void find_sequence(const int* sequenceStarts, int sequences, int token, int& start, int& end) {
    int low = 0, high = sequences - 1;  // largest s with sequenceStarts[s] <= token
    while (low < high) {
        const int middle = (low + high + 1) / 2;
        if (sequenceStarts[middle] <= token) low = middle; else high = middle - 1;
    }
    start = sequenceStarts[low];
    end = sequenceStarts[low + 1];
}

// Dot product of a shared-memory vector with a global one.
__device__ __forceinline__ float dot(const float* shared, const float* global, int length) {
    float sum = 0.0f;
    for (int d = 0; d < length; d++) sum += shared[d] * global[d];
    return sum;
}

// One block per (query token i, query head h); blockDim.x >= headDim, at most MAX_ATTENTION_BLOCK.
// Token i sees keys j of its own sequence with j <= i and, when window > 0, i - j < window.
// Pass 1 finds the row maximum of the scores s_j = scale * q_i . k_j; pass 2 accumulates exp(s_j - max) and
// exp(s_j - max) * v_j tile by tile (scores recomputed, no [N, N] buffer).
// query, out: (tokens, queryHeads, headDim); key, value: (tokens, keyValueHeads, headDim);
// logSumExp: (tokens, queryHeads) or null
extern "C" __global__ void attention_forward_f32(float* out, float* logSumExp, const float* query, const float* key,
                                                 const float* value, const int* sequenceStarts, int sequences,
                                                 int queryHeads, int keyValueHeads, int headDim, int window,
                                                 float scale) {
    __shared__ float q[MAX_HEAD_DIM];
    __shared__ float probabilities[MAX_ATTENTION_BLOCK];
    __shared__ float scratch[32];
    const int i = blockIdx.x, h = blockIdx.y, tid = threadIdx.x;
    const int kvHead = h / (queryHeads / keyValueHeads);
    const long long queryRow = ((long long)i * queryHeads + h) * headDim;
    for (int d = tid; d < headDim; d += blockDim.x) q[d] = query[queryRow + d];
    __syncthreads();

    int start, end;
    find_sequence(sequenceStarts, sequences, i, start, end);
    const int first = (window > 0 && i - window + 1 > start) ? i - window + 1 : start;
    const int last = i;

    float rowMax = negative_infinity();
    for (int j = first + tid; j <= last; j += blockDim.x)
        rowMax = fmaxf(rowMax, scale * dot(q, key + ((long long)j * keyValueHeads + kvHead) * headDim, headDim));
    rowMax = block_max(rowMax, scratch);

    float partialSum = 0.0f, accumulator = 0.0f;
    for (int tile = first; tile <= last; tile += blockDim.x) {
        const int j = tile + tid;
        float p = 0.0f;
        if (j <= last) p = expf(scale * dot(q, key + ((long long)j * keyValueHeads + kvHead) * headDim, headDim) - rowMax);
        partialSum += p;
        __syncthreads();  // the previous tile's probabilities have been read
        probabilities[tid] = p;
        __syncthreads();
        const int count = min((int)blockDim.x, last - tile + 1);
        if (tid < headDim) {
            for (int t = 0; t < count; t++)
                accumulator += probabilities[t] * value[((long long)(tile + t) * keyValueHeads + kvHead) * headDim + tid];
        }
    }
    const float total = block_sum(partialSum, scratch);
    if (tid < headDim) out[queryRow + tid] = accumulator / total;
    if (logSumExp != 0 && tid == 0) logSumExp[(long long)i * queryHeads + h] = rowMax + logf(total);
}

// delta[i, h] = sum_d gradOut[i, h, d] * out[i, h, d], the softmax-backward row term; one thread per row.
// out, gradOut: (tokens, queryHeads, headDim), delta: (tokens, queryHeads)
extern "C" __global__ void attention_backward_delta_f32(float* delta, const float* out, const float* gradOut,
                                                        long long rows, int headDim) {
    const long long row = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (row >= rows) return;
    float sum = 0.0f;
    for (int d = 0; d < headDim; d++) sum += gradOut[row * headDim + d] * out[row * headDim + d];
    delta[row] = sum;
}

// gradQuery, one block per (query token i, query head h), overwriting:
// p_j = exp(s_j - lse_i), dS_j = p_j (gradOut_i . v_j - delta_i), gradQuery_i = scale * sum_j dS_j k_j.
extern "C" __global__ void attention_backward_query_f32(float* gradQuery, const float* query, const float* key,
                                                        const float* value, const float* logSumExp,
                                                        const float* delta, const float* gradOut,
                                                        const int* sequenceStarts, int sequences, int queryHeads,
                                                        int keyValueHeads, int headDim, int window, float scale) {
    __shared__ float q[MAX_HEAD_DIM];
    __shared__ float gradO[MAX_HEAD_DIM];
    __shared__ float gradScores[MAX_ATTENTION_BLOCK];
    const int i = blockIdx.x, h = blockIdx.y, tid = threadIdx.x;
    const int kvHead = h / (queryHeads / keyValueHeads);
    const long long row = (long long)i * queryHeads + h;
    for (int d = tid; d < headDim; d += blockDim.x) {
        q[d] = query[row * headDim + d];
        gradO[d] = gradOut[row * headDim + d];
    }
    __syncthreads();
    const float lse = logSumExp[row], rowDelta = delta[row];

    int start, end;
    find_sequence(sequenceStarts, sequences, i, start, end);
    const int first = (window > 0 && i - window + 1 > start) ? i - window + 1 : start;
    const int last = i;

    float accumulator = 0.0f;
    for (int tile = first; tile <= last; tile += blockDim.x) {
        const int j = tile + tid;
        float gradScore = 0.0f;
        if (j <= last) {
            const long long kvRow = ((long long)j * keyValueHeads + kvHead) * headDim;
            const float p = expf(scale * dot(q, key + kvRow, headDim) - lse);
            gradScore = p * (dot(gradO, value + kvRow, headDim) - rowDelta);
        }
        __syncthreads();
        gradScores[tid] = gradScore;
        __syncthreads();
        const int count = min((int)blockDim.x, last - tile + 1);
        if (tid < headDim) {
            for (int t = 0; t < count; t++)
                accumulator += gradScores[t] * key[((long long)(tile + t) * keyValueHeads + kvHead) * headDim + tid];
        }
    }
    if (tid < headDim) gradQuery[row * headDim + tid] = scale * accumulator;
}

// gradKey and gradValue, one block per (key token j, key-value head), overwriting; sums over the query heads of the
// group and the queries i that see j (same sequence, i >= j, and i - j < window when window > 0):
// gradValue_j = sum p_ij gradOut_i, gradKey_j = scale * sum dS_ij q_i.
extern "C" __global__ void attention_backward_key_value_f32(float* gradKey, float* gradValue, const float* query,
                                                            const float* key, const float* value,
                                                            const float* logSumExp, const float* delta,
                                                            const float* gradOut, const int* sequenceStarts,
                                                            int sequences, int queryHeads, int keyValueHeads,
                                                            int headDim, int window, float scale) {
    __shared__ float k[MAX_HEAD_DIM];
    __shared__ float v[MAX_HEAD_DIM];
    __shared__ float probabilities[MAX_ATTENTION_BLOCK];
    __shared__ float gradScores[MAX_ATTENTION_BLOCK];
    const int j = blockIdx.x, kvHead = blockIdx.y, tid = threadIdx.x;
    const int group = queryHeads / keyValueHeads;
    const long long kvRow = ((long long)j * keyValueHeads + kvHead) * headDim;
    for (int d = tid; d < headDim; d += blockDim.x) {
        k[d] = key[kvRow + d];
        v[d] = value[kvRow + d];
    }
    __syncthreads();

    int start, end;
    find_sequence(sequenceStarts, sequences, j, start, end);
    const int last = (window > 0 && j + window - 1 < end - 1) ? j + window - 1 : end - 1;

    float gradKeyAccumulator = 0.0f, gradValueAccumulator = 0.0f;
    for (int member = 0; member < group; member++) {
        const int h = kvHead * group + member;
        for (int tile = j; tile <= last; tile += blockDim.x) {
            const int i = tile + tid;
            float p = 0.0f, gradScore = 0.0f;
            if (i <= last) {
                const long long row = (long long)i * queryHeads + h;
                p = expf(scale * dot(k, query + row * headDim, headDim) - logSumExp[row]);
                gradScore = p * (dot(v, gradOut + row * headDim, headDim) - delta[row]);
            }
            __syncthreads();
            probabilities[tid] = p;
            gradScores[tid] = gradScore;
            __syncthreads();
            const int count = min((int)blockDim.x, last - tile + 1);
            if (tid < headDim) {
                for (int t = 0; t < count; t++) {
                    const long long row = ((long long)(tile + t) * queryHeads + h) * headDim + tid;
                    gradValueAccumulator += probabilities[t] * gradOut[row];
                    gradKeyAccumulator += gradScores[t] * query[row];
                }
            }
        }
    }
    if (tid < headDim) {
        gradKey[kvRow + tid] = scale * gradKeyAccumulator;
        gradValue[kvRow + tid] = gradValueAccumulator;
    }
}

// MARK: - Paged KV cache (generation; block layout of PagedAttention, https://arxiv.org/abs/2309.06180)

// keyCache[slots[n]] = key[n] and valueCache[slots[n]] = value[n] for every row n with slots[n] >= 0 (the host checks
// that slots are distinct and in range). key, value: (tokens, rowWidth); caches: (blocks * blockSize, rowWidth),
// rowWidth = keyValueHeads * headDim.
extern "C" __global__ void write_kv_cache_f32(float* keyCache, float* valueCache, const float* key, const float* value,
                                              const int* slots, long long tokens, int rowWidth) {
    const long long total = tokens * rowWidth;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const long long n = i / rowWidth;
        const int slot = slots[n];
        if (slot < 0) continue;
        const long long target = (long long)slot * rowWidth + (i - n * rowWidth);
        keyCache[target] = key[i];
        valueCache[target] = value[i];
    }
}

// The sequence index s whose rows queryStarts[s] <= token < queryStarts[s + 1] hold `token`.
__device__ int sequence_of(const int* queryStarts, int sequences, int token) {
    int low = 0, high = sequences - 1;  // largest s with queryStarts[s] <= token
    while (low < high) {
        const int middle = (low + high + 1) / 2;
        if (queryStarts[middle] <= token) low = middle; else high = middle - 1;
    }
    return low;
}

// Offset of the kvHead row of cache position p for the block table `table` (one sequence's row).
__device__ __forceinline__ long long paged_row(const int* table, int p, int blockSize, int keyValueHeads, int kvHead,
                                               int headDim) {
    const long long slot = (long long)table[p / blockSize] * blockSize + p % blockSize;
    return (slot * keyValueHeads + kvHead) * headDim;
}

// One block per (new token i, query head h), the two passes of attention_forward_f32 with keys and values read through
// the block table. New row t of sequence s sits at position p = contextLengths[s] - q_s + t (q_s = its new rows) and
// sees positions j <= p with, when window > 0, p - j < window.
// query, out: (tokens, queryHeads, headDim); caches: (blocks, blockSize, keyValueHeads, headDim);
// blockTables: (sequences, maxBlocks); contextLengths: (sequences); queryStarts: (sequences + 1)
extern "C" __global__ void paged_attention_f32(float* out, const float* query, const float* keyCache,
                                               const float* valueCache, const int* blockTables,
                                               const int* contextLengths, const int* queryStarts, int sequences,
                                               int maxBlocks, int blockSize, int queryHeads, int keyValueHeads,
                                               int headDim, int window, float scale) {
    __shared__ float q[MAX_HEAD_DIM];
    __shared__ float probabilities[MAX_ATTENTION_BLOCK];
    __shared__ float scratch[32];
    const int i = blockIdx.x, h = blockIdx.y, tid = threadIdx.x;
    const int kvHead = h / (queryHeads / keyValueHeads);
    const long long queryRow = ((long long)i * queryHeads + h) * headDim;
    for (int d = tid; d < headDim; d += blockDim.x) q[d] = query[queryRow + d];
    __syncthreads();

    const int s = sequence_of(queryStarts, sequences, i);
    const int newRows = queryStarts[s + 1] - queryStarts[s];
    const int last = contextLengths[s] - newRows + (i - queryStarts[s]);
    const int first = (window > 0 && last - window + 1 > 0) ? last - window + 1 : 0;
    const int* table = blockTables + (long long)s * maxBlocks;

    float rowMax = negative_infinity();
    for (int j = first + tid; j <= last; j += blockDim.x)
        rowMax = fmaxf(rowMax, scale * dot(q, keyCache + paged_row(table, j, blockSize, keyValueHeads, kvHead, headDim),
                                           headDim));
    rowMax = block_max(rowMax, scratch);

    float partialSum = 0.0f, accumulator = 0.0f;
    for (int tile = first; tile <= last; tile += blockDim.x) {
        const int j = tile + tid;
        float p = 0.0f;
        if (j <= last)
            p = expf(scale * dot(q, keyCache + paged_row(table, j, blockSize, keyValueHeads, kvHead, headDim), headDim)
                     - rowMax);
        partialSum += p;
        __syncthreads();  // the previous tile's probabilities have been read
        probabilities[tid] = p;
        __syncthreads();
        const int count = min((int)blockDim.x, last - tile + 1);
        if (tid < headDim) {
            for (int t = 0; t < count; t++)
                accumulator += probabilities[t]
                    * valueCache[paged_row(table, tile + t, blockSize, keyValueHeads, kvHead, headDim) + tid];
        }
    }
    const float total = block_sum(partialSum, scratch);
    if (tid < headDim) out[queryRow + tid] = accumulator / total;
}

// MARK: - SwiGLU (https://arxiv.org/abs/2002.05202)

// out = silu(gate) * up, silu(g) = g * sigmoid(g).  gate, up, out: (count)
extern "C" __global__ void swiglu_f32(float* out, const float* gate, const float* up, long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

// gradUp = gradOut * silu(g); gradGate = gradOut * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))).
extern "C" __global__ void swiglu_backward_f32(float* gradGate, float* gradUp, const float* gate, const float* up,
                                               const float* gradOut, long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
        const float g = gate[i], u = up[i], gradient = gradOut[i];
        const float sigmoid = 1.0f / (1.0f + expf(-g));
        gradUp[i] = gradient * g * sigmoid;
        gradGate[i] = gradient * u * sigmoid * (1.0f + g * (1.0f - sigmoid));
    }
}

// MARK: - Cross-entropy fused with its gradient

// One block per row of logits. A row whose target is outside 0..<vocabulary (-100 = ignored) scores nothing,
// gets logProbabilities 0 and, when writing the gradient, a zero row. A scored row adds -log p(target), 1, and
// (argmax == target) to stats with atomicAdd, and with writeGradient overwrites its logits with
// gradientScale * (softmax - onehot(target)), the scale times tokenWeights[row] when the weights are given.
// logits: (rows, vocabulary), targets: (rows) i32, stats: (3), logProbabilities: (rows) or null,
// tokenWeights: (rows) or null
extern "C" __global__ void cross_entropy_f32(float* logits, const int* targets, float* stats, float* logProbabilities,
                                             int vocabulary, int writeGradient, float gradientScale,
                                             const float* tokenWeights) {
    __shared__ float scratch[32];
    __shared__ float argmaxValues[32];
    __shared__ int argmaxIndices[32];
    const long long row = blockIdx.x;
    const int tid = threadIdx.x;
    float* x = logits + row * vocabulary;
    const int target = targets[row];

    if (target < 0 || target >= vocabulary) {
        if (logProbabilities != 0 && tid == 0) logProbabilities[row] = 0.0f;
        if (writeGradient)
            for (int c = tid; c < vocabulary; c += blockDim.x) x[c] = 0.0f;
        return;
    }

    // Read everything the statistics need before any thread overwrites the row (the reductions synchronize).
    const float targetLogit = x[target];
    float localMax = negative_infinity();
    int localIndex = 0x7fffffff;
    for (int c = tid; c < vocabulary; c += blockDim.x) argmax_combine(localMax, localIndex, x[c], c);
    const float rowMax = block_max(localMax, scratch);
    const int argmax = block_argmax(localMax, localIndex, argmaxValues, argmaxIndices);
    float partialSum = 0.0f;
    for (int c = tid; c < vocabulary; c += blockDim.x) partialSum += expf(x[c] - rowMax);
    const float logSumExp = rowMax + logf(block_sum(partialSum, scratch));
    const float logProbability = targetLogit - logSumExp;

    if (tid == 0) {
        atomicAdd(&stats[0], -logProbability);
        atomicAdd(&stats[1], 1.0f);
        if (argmax == target) atomicAdd(&stats[2], 1.0f);
        if (logProbabilities != 0) logProbabilities[row] = logProbability;
    }
    if (writeGradient) {
        const float scale = tokenWeights != 0 ? gradientScale * tokenWeights[row] : gradientScale;
        for (int c = tid; c < vocabulary; c += blockDim.x)
            x[c] = scale * (expf(x[c] - logSumExp) - (c == target ? 1.0f : 0.0f));
    }
}

// MARK: - Training: dropout and AdamW

// The 24 random bits of element `index` under `seed`: SplitMix64's finalizer of seed + (index + 1) * gamma.
// Bit for bit DropoutMask.randomBits(seed:index:) in Sources/SwiftTuneTensor/DropoutMask.swift.
__device__ __forceinline__ unsigned int dropout_bits(unsigned long long seed, long long index) {
    unsigned long long z = seed + ((unsigned long long)index + 1ull) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (unsigned int)(z >> 40);
}

// out[i] = x[i] * scale where dropout_bits(seed, i) >= threshold, else 0; out may alias x.
// The threshold (ceil(p * 2^24)) and scale (1 / (1 - p)) come from the host.  x, out: (count)
extern "C" __global__ void dropout_f32(float* out, const float* x, unsigned long long seed, int threshold, float scale,
                                       long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        out[i] = dropout_bits(seed, i) >= (unsigned int)threshold ? __fmul_rn(x[i], scale) : 0.0f;
}

// One AdamW update in torch.optim.AdamW's single-tensor order; the scalars are computed on the host
// (AdamWCoefficients.swift). The _rn intrinsics keep the compiler from contracting into FMAs, so each step
// rounds as PyTorch's separate ops (and the CPU kernel) do.  param, grad, m, v: (count)
extern "C" __global__ void adamw_f32(float* param, const float* grad, float* m, float* v, float decay,
                                     float firstMomentWeight, float beta2, float secondMomentWeight,
                                     float biasCorrection2Root, float epsilon, float negativeStepSize, long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
        const float g = grad[i], oldM = m[i];
        const float p = __fmul_rn(param[i], decay);
        const float newM = firstMomentWeight < 0.5f
            ? __fadd_rn(oldM, __fmul_rn(firstMomentWeight, __fsub_rn(g, oldM)))
            : __fsub_rn(g, __fmul_rn(__fsub_rn(g, oldM), __fsub_rn(1.0f, firstMomentWeight)));
        const float newV = __fadd_rn(__fmul_rn(v[i], beta2), __fmul_rn(__fmul_rn(secondMomentWeight, g), g));
        const float denominator = __fadd_rn(__fdiv_rn(__fsqrt_rn(newV), biasCorrection2Root), epsilon);
        param[i] = __fadd_rn(p, __fmul_rn(negativeStepSize, __fdiv_rn(newM, denominator)));
        m[i] = newM;
        v[i] = newV;
    }
}

// MARK: - Sampling
//
// Backend.sample (Sources/SwiftTuneTensor/Backend.swift): one thread block per row of logits picks the row's next
// token with HF transformers' logits processors in `generate`'s order, the same steps as the CPU reference
// (Sources/SwiftTuneCPU/Kernels/CPUKernels+Sampling.swift). The f32 score arithmetic rounds as the CPU's (the _rn
// intrinsics keep it from contracting into FMAs); softmaxes and cumulative sums are f64 but summed in a tree, so a
// token can differ from the CPU's only where a cumulative probability lies within rounding of the uniform number or
// of 1 − top_p. Dropped tokens are set to −∞ in the row's scratch scores, so the candidates are the scores above −∞.

// Threads per row (the Swift side launches this many; a multiple of 32).
#define SAMPLE_BLOCK 1024
// Columns of `parameters` per row (SamplingParameter.count): temperature, top_k, top_p, min_p,
// repetition_penalty, presence_penalty, frequency_penalty, uniform.
#define SAMPLE_PARAMETERS 8

// An unsigned key that orders floats as `<` does (−0 and +0 share one); -inf is below every candidate.
__device__ __forceinline__ unsigned int sample_key(float x) {
    const unsigned int bits = __float_as_uint(x == 0.0f ? 0.0f : x);
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// Sum of `value` over the block, returned to every thread. `scratch`: 32 doubles of shared memory.
__device__ double sample_sum_f64(double value, double* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(FULL_MASK, value, offset);
    __syncthreads();
    if (lane == 0) scratch[warp] = value;
    __syncthreads();
    value = lane < warps ? scratch[lane] : 0.0;
    for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(FULL_MASK, value, offset);
    return value;
}

// Sum of `value` over the block, returned to every thread. `scratch`: 32 ints of shared memory.
__device__ int sample_sum_int(int value, int* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(FULL_MASK, value, offset);
    __syncthreads();
    if (lane == 0) scratch[warp] = value;
    __syncthreads();
    value = lane < warps ? scratch[lane] : 0;
    for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(FULL_MASK, value, offset);
    return value;
}

// Σ exp(x − top) over the candidates of row x (V) whose key is above `key` (0: all).
__device__ double sample_mass_above(const float* x, int vocabulary, double top, unsigned int key, bool inclusive,
                                    double* scratch) {
    double local = 0.0;
    for (int c = threadIdx.x; c < vocabulary; c += blockDim.x) {
        const float s = x[c];
        if (s == negative_infinity()) continue;
        const unsigned int k = sample_key(s);
        if (k > key || (inclusive && k == key)) local += exp((double)s - top);
    }
    return sample_sum_f64(local, scratch);
}

// The key of the k-th largest candidate (k ≥ 1, ties counted), by radix select over 8-bit digits.
// `histogram`: 256 ints of shared memory; `selected`: 2 ints of shared memory.
__device__ unsigned int sample_kth_largest_key(const float* x, int vocabulary, int k, int* histogram, int* selected) {
    unsigned int prefix = 0u, mask = 0u;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < 256; b += blockDim.x) histogram[b] = 0;
        __syncthreads();
        for (int c = threadIdx.x; c < vocabulary; c += blockDim.x) {
            const float s = x[c];
            if (s == negative_infinity()) continue;
            const unsigned int key = sample_key(s);
            if ((key & mask) == prefix) atomicAdd(&histogram[(key >> shift) & 255u], 1);
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            int digit = 255, left = k;
            while (digit > 0 && histogram[digit] < left) {
                left -= histogram[digit];
                digit -= 1;
            }
            selected[0] = digit;
            selected[1] = left;
        }
        __syncthreads();
        prefix |= ((unsigned int)selected[0]) << shift;
        mask |= 255u << shift;
        k = selected[1];
        __syncthreads();
    }
    return prefix;
}

// Sets every candidate of row x (V) with key below `key`, or equal to it with an id below `firstKeptID`, to −∞.
__device__ void sample_drop_below(float* x, int vocabulary, unsigned int key, int firstKeptID) {
    for (int c = threadIdx.x; c < vocabulary; c += blockDim.x) {
        const float s = x[c];
        if (s == negative_infinity()) continue;
        const unsigned int k = sample_key(s);
        if (k < key || (k == key && c < firstKeptID)) x[c] = negative_infinity();
    }
    __syncthreads();
}

// TopPLogitsWarper: in ascending (score, id) order, drop tokens while the cumulative probability stays ≤ 1 − top_p.
// A token is kept when the probability of the tokens after it in that order is below top_p: every key above t0
// (the smallest key whose mass above is below top_p) stays, every key below it goes, and of the tokens tied at t0 the
// highest ids stay while the mass above each is below top_p.
__device__ void sample_top_p(float* x, int vocabulary, double topP, float* floatScratch, double* scratch,
                             int* intScratch) {
    float localMax = negative_infinity();
    for (int c = threadIdx.x; c < vocabulary; c += blockDim.x) localMax = fmaxf(localMax, x[c]);
    const double top = (double)block_max(localMax, floatScratch);
    const double total = sample_mass_above(x, vocabulary, top, 0u, true, scratch);
    unsigned int low = 0u, high = 0xffffffffu;
    while (low < high) {
        const unsigned int middle = low + (high - low) / 2u;
        if (sample_mass_above(x, vocabulary, top, middle, false, scratch) / total < topP) high = middle; else low = middle + 1u;
    }
    const unsigned int t0 = low;
    const double above = sample_mass_above(x, vocabulary, top, t0, false, scratch) / total;
    // The tokens tied at t0: how many, and the probability of each.
    int localTied = 0;
    float tiedScore = negative_infinity();
    for (int c = threadIdx.x; c < vocabulary; c += blockDim.x) {
        if (x[c] != negative_infinity() && sample_key(x[c]) == t0) {
            localTied += 1;
            tiedScore = x[c];
        }
    }
    const int tied = sample_sum_int(localTied, intScratch);
    const double each = exp((double)block_max(tiedScore, floatScratch) - top) / total;
    int kept = tied;
    if (each > 0.0) kept = max(1, (int)fmin((double)tied, ceil((topP - above) / each)));
    int firstKeptID = 0;
    if (kept < tied) {
        // The kept ones are the `kept` highest ids of the tie: the largest id τ with at least `kept` tied ids ≥ τ.
        int lowID = 0, highID = vocabulary - 1;
        while (lowID < highID) {
            const int middle = lowID + (highID - lowID + 1) / 2;
            int local = 0;
            for (int c = threadIdx.x; c < vocabulary; c += blockDim.x)
                if (c >= middle && x[c] != negative_infinity() && sample_key(x[c]) == t0) local += 1;
            if (sample_sum_int(local, intScratch) >= kept) lowID = middle; else highID = middle - 1;
        }
        firstKeptID = lowID;
    }
    sample_drop_below(x, vocabulary, t0, firstKeptID);
}

// One row per block: logits (S, V) read only; parameters (S, SAMPLE_PARAMETERS) f64; historyIds (H), historyStarts
// (S + 1), answerStarts (S) i32; writes tokens (S) i32 and, when logprobs is not 0, logprobs (S) f64.
// scores (S, V) f32 is scratch; counts (S, V) i32 is scratch that must be zero on entry.
extern "C" __global__ void sample_f32(const float* logits, const double* parameters, const int* historyIds,
                                      const int* historyStarts, const int* answerStarts, int* tokens, double* logprobs,
                                      float* scores, int* counts, int vocabulary) {
    __shared__ float floatScratch[32];
    __shared__ double scratch[32];
    __shared__ int intScratch[32];
    __shared__ float argmaxValues[32];
    __shared__ int argmaxIndices[32];
    __shared__ int histogram[256];
    __shared__ int selected[2];
    __shared__ double threadMass[SAMPLE_BLOCK];
    __shared__ int chosen;
    const long long row = blockIdx.x;
    const int tid = threadIdx.x;
    const float* raw = logits + row * vocabulary;
    float* x = scores + row * vocabulary;
    int* occurrences = counts + row * vocabulary;
    const double* p = parameters + row * SAMPLE_PARAMETERS;
    const double temperature = p[0], topP = p[2], minP = p[3], repetition = p[4], presence = p[5], frequency = p[6];
    const double uniform = p[7];
    const int topK = (int)p[1];
    const int historyStart = historyStarts[row], historyEnd = historyStarts[row + 1], answerStart = answerStarts[row];

    // Penalties. Each write of a history id computes its value from the raw logit, so repeated ids write the same.
    for (int c = tid; c < vocabulary; c += blockDim.x) x[c] = raw[c];
    const bool occurrencePenalty = presence != 0.0 || frequency != 0.0;
    if (occurrencePenalty) {
        for (int i = answerStart + tid; i < historyEnd; i += blockDim.x) {
            const int id = historyIds[i];
            if (id >= 0 && id < vocabulary) atomicAdd(&occurrences[id], 1);
        }
    }
    __syncthreads();
    if (repetition != 1.0 || occurrencePenalty) {
        const float penalty = __double2float_rn(repetition);
        for (int i = historyStart + tid; i < historyEnd; i += blockDim.x) {
            const int id = historyIds[i];
            if (id < 0 || id >= vocabulary) continue;
            float s = raw[id];
            if (repetition != 1.0) s = s < 0.0f ? __fmul_rn(s, penalty) : __fdiv_rn(s, penalty);
            const int n = occurrences[id];
            if (occurrencePenalty && n > 0) s = __fsub_rn(s, __double2float_rn(__dadd_rn(__dmul_rn((double)n, frequency), presence)));
            x[id] = s;
        }
    }
    __syncthreads();

    int token = 0;
    bool drawn = false;
    if (temperature > 0.0) {
        const float t = __double2float_rn(temperature);
        if (t != 1.0f)
            for (int c = tid; c < vocabulary; c += blockDim.x) x[c] = __fdiv_rn(x[c], t);
        __syncthreads();
        int localCandidates = 0;
        for (int c = tid; c < vocabulary; c += blockDim.x) localCandidates += x[c] > negative_infinity() ? 1 : 0;
        const int candidates = sample_sum_int(localCandidates, intScratch);
        if (candidates > 0) {
            if (topK > 0 && topK < candidates)
                sample_drop_below(x, vocabulary, sample_kth_largest_key(x, vocabulary, topK, histogram, selected), 0);
            if (topP < 1.0 && candidates > 1) sample_top_p(x, vocabulary, topP, floatScratch, scratch, intScratch);
            float localMax = negative_infinity();
            for (int c = tid; c < vocabulary; c += blockDim.x) localMax = fmaxf(localMax, x[c]);
            const float top = block_max(localMax, floatScratch);
            if (minP > 0.0) {
                const double cutoff = (double)top + log(minP);
                for (int c = tid; c < vocabulary; c += blockDim.x)
                    if (x[c] != negative_infinity() && (double)x[c] < cutoff) x[c] = negative_infinity();
                __syncthreads();
            }
            // The draw: the first candidate, in id order, whose cumulative probability exceeds `uniform`. Each
            // thread owns a contiguous range of ids; the ranges' masses are scanned in order by thread 0.
            const double total = sample_mass_above(x, vocabulary, (double)top, 0u, true, scratch);
            const int chunk = (vocabulary + blockDim.x - 1) / blockDim.x;
            const int begin = min(tid * chunk, vocabulary), end = min(begin + chunk, vocabulary);
            double local = 0.0;
            int lastCandidate = -1;
            for (int c = begin; c < end; c++) {
                if (x[c] == negative_infinity()) continue;
                local += exp((double)x[c] - (double)top) / total;
                lastCandidate = c;
            }
            threadMass[tid] = local;
            if (tid == 0) chosen = 0x7fffffff;
            __syncthreads();
            if (tid == 0) {
                double running = 0.0;
                for (int i = 0; i < blockDim.x; i++) {
                    const double mass = threadMass[i];
                    threadMass[i] = running;  // now the mass before thread i's range
                    running += mass;
                }
            }
            __syncthreads();
            double cumulative = threadMass[tid];
            if (uniform < cumulative + local) {
                for (int c = begin; c < end; c++) {
                    if (x[c] == negative_infinity()) continue;
                    cumulative += exp((double)x[c] - (double)top) / total;
                    if (uniform < cumulative) {
                        atomicMin(&chosen, c);
                        break;
                    }
                }
            }
            int localLast = lastCandidate;
            for (int offset = 16; offset > 0; offset >>= 1) localLast = max(localLast, __shfl_xor_sync(FULL_MASK, localLast, offset));
            __syncthreads();
            if ((tid & 31) == 0) intScratch[tid >> 5] = localLast;
            __syncthreads();
            if (tid == 0) {
                int last = -1;
                for (int w = 0; w < (int)((blockDim.x + 31) >> 5); w++) last = max(last, intScratch[w]);
                if (chosen == 0x7fffffff) chosen = last;  // no cumulative sum reached `uniform`: the last candidate
            }
            __syncthreads();
            token = chosen;
            drawn = true;
        }
    }
    if (!drawn) {
        // Greedy, or no candidate left: the first largest score.
        float localMax = negative_infinity();
        int localIndex = 0x7fffffff;
        for (int c = tid; c < vocabulary; c += blockDim.x) argmax_combine(localMax, localIndex, x[c], c);
        token = block_argmax(localMax, localIndex, argmaxValues, argmaxIndices);
        if (token == 0x7fffffff) token = 0;
    }
    if (tid == 0) tokens[row] = token;
    if (logprobs != 0) {
        float localMax = negative_infinity();
        for (int c = tid; c < vocabulary; c += blockDim.x) localMax = fmaxf(localMax, raw[c]);
        const double top = (double)block_max(localMax, floatScratch);
        double local = 0.0;
        for (int c = tid; c < vocabulary; c += blockDim.x) local += exp((double)raw[c] - top);
        const double total = sample_sum_f64(local, scratch);
        if (tid == 0) logprobs[row] = (double)raw[token] - (top + log(total));
    }
}
