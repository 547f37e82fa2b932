// Embedding, RMSNorm and RoPE (CUDABackend+Layers.swift). Conventions in common.cuh.

#include "common.cuh"

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
