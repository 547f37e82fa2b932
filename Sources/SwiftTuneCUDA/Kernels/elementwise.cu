// Elementwise ops, reductions and SwiGLU (CUDABackend+Elementwise.swift). Conventions in common.cuh.

#include "common.cuh"

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

// out = factor[0] * x with the factor read from device memory (a clip coefficient); out may alias x.
// x, out: (count), factor: (1)
extern "C" __global__ void scale_by_scalar_f32(float* out, const float* x, const float* factor, long long count) {
    const float f = factor[0];
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        out[i] = f * x[i];
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
