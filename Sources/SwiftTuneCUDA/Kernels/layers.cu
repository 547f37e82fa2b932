// Embedding, RMSNorm and RoPE (CUDABackend+Layers.swift). Conventions in common.cuh.
//
// Each kernel is a template over its storage type T (float or bf16, f32 math), exported as <function>_f32 and
// <function>_bf16. The gradient accumulators (gradTable, gradWeight) have their own type G: float for
// <function>_<T>, the storage type for <function>_into_bf16.

#include "common.cuh"

// MARK: - Embedding

// out[n, :] = table[ids[n], :]; an id outside 0..<vocabulary gives a zero row (the host cannot check ids
// without reading device memory). Rows of even width move two elements per access.
// ids: (rows) i32, table: (vocabulary, dim), out: (rows, dim)
template <typename T>
__device__ void embedding(T* out, const int* ids, const T* table, long long rows, int dim, int vocabulary) {
    // The source of element i, or -1 for a bad id.
    auto source = [=](long long i) {
        const long long n = i / dim;
        const int id = ids[n];
        return (id >= 0 && id < vocabulary) ? (long long)id * dim + (i - n * dim) : -1ll;
    };
    for_each_element(rows * dim, dim % 2 == 0 && pair_aligned(out) && pair_aligned(table),
        [&](long long i) {
            const long long from = source(i);  // i is even and dim too: i + 1 is in the same row
            if (from >= 0) copy_pair(out + i, table + from);
            else store_pair(out + i, make_float2(0.0f, 0.0f));
        },
        [&](long long i) {
            const long long from = source(i);
            out[i] = from >= 0 ? table[from] : from_float<T>(0.0f);
        });
}
extern "C" __global__ void embedding_f32(float* out, const int* ids, const float* table, long long rows, int dim,
                                         int vocabulary) {
    embedding(out, ids, table, rows, dim, vocabulary);
}
extern "C" __global__ void embedding_bf16(bf16* out, const int* ids, const bf16* table, long long rows, int dim,
                                          int vocabulary) {
    embedding(out, ids, table, rows, dim, vocabulary);
}

// gradTable[ids[n], :] += gradOut[n, :] (atomic scatter-add: repeated ids accumulate; bad ids are skipped).
// ids: (rows) i32, gradOut: (rows, dim), gradTable: (vocabulary, dim)
template <typename G, typename T>
__device__ void embedding_backward(G* gradTable, const int* ids, const T* gradOut, long long rows, int dim,
                                   int vocabulary) {
    const long long count = rows * dim;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
        const long long n = i / dim;
        const int d = (int)(i % dim);
        const int id = ids[n];
        if (id >= 0 && id < vocabulary) atomic_add(&gradTable[(long long)id * dim + d], to_float(gradOut[i]));
    }
}
extern "C" __global__ void embedding_backward_f32(float* gradTable, const int* ids, const float* gradOut, long long rows,
                                                  int dim, int vocabulary) {
    embedding_backward(gradTable, ids, gradOut, rows, dim, vocabulary);
}
extern "C" __global__ void embedding_backward_bf16(float* gradTable, const int* ids, const bf16* gradOut, long long rows,
                                                   int dim, int vocabulary) {
    embedding_backward(gradTable, ids, gradOut, rows, dim, vocabulary);
}
extern "C" __global__ void embedding_backward_into_bf16(bf16* gradTable, const int* ids, const bf16* gradOut,
                                                        long long rows, int dim, int vocabulary) {
    embedding_backward(gradTable, ids, gradOut, rows, dim, vocabulary);
}

// MARK: - RMSNorm (https://arxiv.org/abs/1910.07467)

// One block per row: r = rsqrt(mean(x^2) + epsilon); out = x * r * weight; inverseRMS[n] = r (f32) when given.
// x, out: (rows, dim), weight: (dim), inverseRMS: (rows) or null
template <typename T>
__device__ void rms_norm(T* out, float* inverseRMS, const T* x, const T* weight, int dim, float epsilon) {
    __shared__ float scratch[32];
    const long long row = blockIdx.x;
    const T* xr = x + row * dim;
    float sum = 0.0f;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) {
        const float v = to_float(xr[d]);
        sum += v * v;
    }
    sum = block_sum(sum, scratch);
    const float r = rsqrtf(sum / (float)dim + epsilon);
    for (int d = threadIdx.x; d < dim; d += blockDim.x)
        out[row * dim + d] = from_float<T>(to_float(xr[d]) * r * to_float(weight[d]));
    if (inverseRMS != 0 && threadIdx.x == 0) inverseRMS[row] = r;
}
extern "C" __global__ void rms_norm_f32(float* out, float* inverseRMS, const float* x, const float* weight, int dim,
                                        float epsilon) {
    rms_norm(out, inverseRMS, x, weight, dim, epsilon);
}
extern "C" __global__ void rms_norm_bf16(bf16* out, float* inverseRMS, const bf16* x, const bf16* weight, int dim,
                                         float epsilon) {
    rms_norm(out, inverseRMS, x, weight, dim, epsilon);
}

// One block per row: with y = x * r * w and g = dL/dy,
// dL/dx[k] = r * w[k] * g[k] - x[k] * r^3 / dim * sum_j(g[j] * w[j] * x[j]). gradIn may alias gradOut.
// x, gradOut, gradIn: (rows, dim), weight: (dim), inverseRMS: (rows) f32
template <typename T>
__device__ void rms_norm_backward(T* gradIn, const T* x, const T* weight, const float* inverseRMS, const T* gradOut,
                                  int dim) {
    __shared__ float scratch[32];
    const long long row = blockIdx.x;
    const T* xr = x + row * dim;
    const T* gr = gradOut + row * dim;
    const float r = inverseRMS[row];
    float dot = 0.0f;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) dot += to_float(gr[d]) * to_float(weight[d]) * to_float(xr[d]);
    dot = block_sum(dot, scratch);
    const float coefficient = r * r * r * dot / (float)dim;
    for (int d = threadIdx.x; d < dim; d += blockDim.x)
        gradIn[row * dim + d] = from_float<T>(r * to_float(weight[d]) * to_float(gr[d]) - to_float(xr[d]) * coefficient);
}
extern "C" __global__ void rms_norm_backward_f32(float* gradIn, const float* x, const float* weight,
                                                 const float* inverseRMS, const float* gradOut, int dim) {
    rms_norm_backward(gradIn, x, weight, inverseRMS, gradOut, dim);
}
extern "C" __global__ void rms_norm_backward_bf16(bf16* gradIn, const bf16* x, const bf16* weight,
                                                  const float* inverseRMS, const bf16* gradOut, int dim) {
    rms_norm_backward(gradIn, x, weight, inverseRMS, gradOut, dim);
}

// gradWeight[d] += sum over rows of gradOut[n, d] * x[n, d] * inverseRMS[n]; one thread per column, summed in f32 in
// row order (deterministic) and rounded once into G.  x, gradOut: (rows, dim), inverseRMS: (rows) f32, gradWeight: (dim)
template <typename G, typename T>
__device__ void rms_norm_weight_gradient(G* gradWeight, const T* x, const float* inverseRMS, const T* gradOut,
                                         long long rows, int dim) {
    const int d = blockIdx.x * blockDim.x + threadIdx.x;
    if (d >= dim) return;
    float sum = 0.0f;
    for (long long n = 0; n < rows; n++) sum += to_float(gradOut[n * dim + d]) * to_float(x[n * dim + d]) * inverseRMS[n];
    gradWeight[d] = from_float<G>(to_float(gradWeight[d]) + sum);
}
extern "C" __global__ void rms_norm_weight_gradient_f32(float* gradWeight, const float* x, const float* inverseRMS,
                                                        const float* gradOut, long long rows, int dim) {
    rms_norm_weight_gradient(gradWeight, x, inverseRMS, gradOut, rows, dim);
}
extern "C" __global__ void rms_norm_weight_gradient_bf16(float* gradWeight, const bf16* x, const float* inverseRMS,
                                                         const bf16* gradOut, long long rows, int dim) {
    rms_norm_weight_gradient(gradWeight, x, inverseRMS, gradOut, rows, dim);
}
extern "C" __global__ void rms_norm_weight_gradient_into_bf16(bf16* gradWeight, const bf16* x, const float* inverseRMS,
                                                              const bf16* gradOut, long long rows, int dim) {
    rms_norm_weight_gradient(gradWeight, x, inverseRMS, gradOut, rows, dim);
}

// MARK: - RoPE (https://arxiv.org/abs/2104.09864), HF rotate-half layout

// One thread per (token, head, pair i < headDim/2): the pair is (x[i], x[i + headDim/2]), the angle is
// positions[n] * inverseFrequencies[i], and cos/sin are scaled by attentionScaling.
// forward:  (a, b) -> (a cos - b sin, b cos + a sin); inverse (the transposed rotation): (a cos + b sin, b cos - a sin).
// x, out: (tokens, heads, headDim), positions: (tokens) i32, inverseFrequencies: (headDim/2) f32. out may alias x.
template <typename T>
__device__ void rope(T* out, const T* x, const int* positions, const float* inverseFrequencies, long long tokens,
                     int heads, int headDim, float attentionScaling, int inverse) {
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
        const float a = to_float(x[base + i]), b = to_float(x[base + i + half]);
        if (inverse) {
            out[base + i] = from_float<T>(a * c + b * s);
            out[base + i + half] = from_float<T>(b * c - a * s);
        } else {
            out[base + i] = from_float<T>(a * c - b * s);
            out[base + i + half] = from_float<T>(b * c + a * s);
        }
    }
}
extern "C" __global__ void rope_f32(float* out, const float* x, const int* positions, const float* inverseFrequencies,
                                    long long tokens, int heads, int headDim, float attentionScaling, int inverse) {
    rope(out, x, positions, inverseFrequencies, tokens, heads, headDim, attentionScaling, inverse);
}
extern "C" __global__ void rope_bf16(bf16* out, const bf16* x, const int* positions, const float* inverseFrequencies,
                                     long long tokens, int heads, int headDim, float attentionScaling, int inverse) {
    rope(out, x, positions, inverseFrequencies, tokens, heads, headDim, attentionScaling, inverse);
}
