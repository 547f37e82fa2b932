// Elementwise ops, reductions and SwiGLU (CUDABackend+Elementwise.swift). Conventions in common.cuh.
//
// Each kernel is a template over its storage type T (float or bf16, f32 math), exported as <function>_f32 and
// <function>_bf16. Elementwise maps read and write two elements per access where the pointers allow it.

#include "common.cuh"

// MARK: - Elementwise and reductions

// out = a + scale * b; out may alias a or b.  a, b, out: (count)
template <typename T> __device__ void add(T* out, const T* a, const T* b, float scale, long long count) {
    map_elements(out, a, b, count, [=](long long, float x, float y) { return x + scale * y; });
}
extern "C" __global__ void add_f32(float* out, const float* a, const float* b, float scale, long long count) {
    add(out, a, b, scale, count);
}
extern "C" __global__ void add_bf16(bf16* out, const bf16* a, const bf16* b, float scale, long long count) {
    add(out, a, b, scale, count);
}

// out = factor * x; out may alias x.  x, out: (count)
template <typename T> __device__ void scale(T* out, const T* x, float factor, long long count) {
    map_elements(out, x, count, [=](long long, float v) { return factor * v; });
}
extern "C" __global__ void scale_f32(float* out, const float* x, float factor, long long count) {
    scale(out, x, factor, count);
}
extern "C" __global__ void scale_bf16(bf16* out, const bf16* x, float factor, long long count) {
    scale(out, x, factor, count);
}

// out = factor[0] * x with the factor read from device memory (a clip coefficient); out may alias x.
// x, out: (count), factor: (1) f32
extern "C" __global__ void scale_by_scalar_f32(float* out, const float* x, const float* factor, long long count) {
    scale(out, x, factor[0], count);
}
extern "C" __global__ void scale_by_scalar_bf16(bf16* out, const bf16* x, const float* factor, long long count) {
    scale(out, x, factor[0], count);
}

// out[n, c] = x[n, c] + bias[c]; out may alias x.  x, out: (rows, columns), bias: (columns)
template <typename T> __device__ void add_bias(T* out, const T* x, const T* bias, long long rows, int columns) {
    map_elements(out, x, rows * columns, [=](long long i, float v) { return v + to_float(bias[i % columns]); });
}
extern "C" __global__ void add_bias_f32(float* out, const float* x, const float* bias, long long rows, int columns) {
    add_bias(out, x, bias, rows, columns);
}
extern "C" __global__ void add_bias_bf16(bf16* out, const bf16* x, const bf16* bias, long long rows, int columns) {
    add_bias(out, x, bias, rows, columns);
}

// out[c] (+)= sum over n of x[n, c]; one thread per column, rows summed in order in f32 (deterministic), the result
// rounded once into out's type O: float (sum_rows_<T>) or the storage type (sum_rows_into_bf16).
// x: (rows, columns), out: (columns)
template <typename T, typename O>
__device__ void sum_rows(O* out, const T* x, long long rows, int columns, int accumulate) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= columns) return;
    float sum = 0.0f;
    for (long long n = 0; n < rows; n++) sum += to_float(x[n * columns + c]);
    out[c] = from_float<O>(accumulate ? to_float(out[c]) + sum : sum);
}
extern "C" __global__ void sum_rows_f32(float* out, const float* x, long long rows, int columns, int accumulate) {
    sum_rows(out, x, rows, columns, accumulate);
}
extern "C" __global__ void sum_rows_bf16(float* out, const bf16* x, long long rows, int columns, int accumulate) {
    sum_rows(out, x, rows, columns, accumulate);
}
extern "C" __global__ void sum_rows_into_bf16(bf16* out, const bf16* x, long long rows, int columns, int accumulate) {
    sum_rows(out, x, rows, columns, accumulate);
}

// out[0] += sum of x^2 over a grid-stride slice per block, in f32 (the host zeroes out first unless accumulating).
// x: (count), out: (1) f32
template <typename T> __device__ void sum_of_squares(float* out, const T* x, long long count) {
    __shared__ float scratch[32];
    float sum = 0.0f;
    for_each_element(count, pair_aligned(x),
        [&](long long i) {
            const float2 v = load_pair(x + i);
            sum += v.x * v.x + v.y * v.y;
        },
        [&](long long i) {
            const float v = to_float(x[i]);
            sum += v * v;
        });
    sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) atomicAdd(out, sum);
}
extern "C" __global__ void sum_of_squares_f32(float* out, const float* x, long long count) {
    sum_of_squares(out, x, count);
}
extern "C" __global__ void sum_of_squares_bf16(float* out, const bf16* x, long long count) {
    sum_of_squares(out, x, count);
}

// MARK: - SwiGLU (https://arxiv.org/abs/2002.05202)

// out = silu(gate) * up, silu(g) = g * sigmoid(g).  gate, up, out: (count)
template <typename T> __device__ void swiglu(T* out, const T* gate, const T* up, long long count) {
    map_elements(out, gate, up, count, [](long long, float g, float u) { return g / (1.0f + expf(-g)) * u; });
}
extern "C" __global__ void swiglu_f32(float* out, const float* gate, const float* up, long long count) {
    swiglu(out, gate, up, count);
}
extern "C" __global__ void swiglu_bf16(bf16* out, const bf16* gate, const bf16* up, long long count) {
    swiglu(out, gate, up, count);
}

// The two gradients of one element: gradUp = gradOut * silu(g), gradGate = gradOut * up * sigmoid(g) * (1 + g * (1 -
// sigmoid(g))), returned as (gradGate, gradUp).
__device__ __forceinline__ float2 swiglu_gradients(float g, float u, float gradient) {
    const float sigmoid = 1.0f / (1.0f + expf(-g));
    return make_float2(gradient * u * sigmoid * (1.0f + g * (1.0f - sigmoid)), gradient * g * sigmoid);
}

// gate, up, gradOut, gradGate, gradUp: (count); the gradients may alias the inputs.
template <typename T>
__device__ void swiglu_backward(T* gradGate, T* gradUp, const T* gate, const T* up, const T* gradOut, long long count) {
    const bool paired = pair_aligned(gradGate) && pair_aligned(gradUp) && pair_aligned(gate) && pair_aligned(up)
        && pair_aligned(gradOut);
    for_each_element(count, paired,
        [&](long long i) {
            const float2 g = load_pair(gate + i), u = load_pair(up + i), d = load_pair(gradOut + i);
            const float2 first = swiglu_gradients(g.x, u.x, d.x), second = swiglu_gradients(g.y, u.y, d.y);
            store_pair(gradGate + i, make_float2(first.x, second.x));
            store_pair(gradUp + i, make_float2(first.y, second.y));
        },
        [&](long long i) {
            const float2 gradients = swiglu_gradients(to_float(gate[i]), to_float(up[i]), to_float(gradOut[i]));
            gradGate[i] = from_float<T>(gradients.x);
            gradUp[i] = from_float<T>(gradients.y);
        });
}
extern "C" __global__ void swiglu_backward_f32(float* gradGate, float* gradUp, const float* gate, const float* up,
                                               const float* gradOut, long long count) {
    swiglu_backward(gradGate, gradUp, gate, up, gradOut, count);
}
extern "C" __global__ void swiglu_backward_bf16(bf16* gradGate, bf16* gradUp, const bf16* gate, const bf16* up,
                                                const bf16* gradOut, long long count) {
    swiglu_backward(gradGate, gradUp, gate, up, gradOut, count);
}
