// Training: dropout, AdamW and the gradient-clip factor (CUDABackend+Training.swift). Conventions in common.cuh.
// Dropout is a template over the storage type (float or bf16); AdamW and the clip factor work on f32 master state.

#include "common.cuh"

// MARK: - Dropout

// out[i] = x[i] * scale (in f32, rounded once into T) where dropout_bits(seed, i) >= threshold, else 0; out may alias
// x. The threshold (ceil(p * 2^24)) and scale (1 / (1 - p)) come from the host.  x, out: (count)
template <typename T>
__device__ void dropout(T* out, const T* x, unsigned long long seed, int threshold, float scale, long long count) {
    map_elements(out, x, count, [=](long long i, float v) {
        return dropout_bits(seed, i) >= (unsigned int)threshold ? __fmul_rn(v, scale) : 0.0f;
    });
}
extern "C" __global__ void dropout_f32(float* out, const float* x, unsigned long long seed, int threshold, float scale,
                                       long long count) {
    dropout(out, x, seed, threshold, scale, count);
}
extern "C" __global__ void dropout_bf16(bf16* out, const bf16* x, unsigned long long seed, int threshold, float scale,
                                        long long count) {
    dropout(out, x, seed, threshold, scale, count);
}

// MARK: - AdamW

// One AdamW update in torch.optim.AdamW's single-tensor order. The step's scalars are computed on the host in double
// (AdamWCoefficients.swift) and read here from device memory, so the launch is the same every step:
// scalars = (decay, firstMomentWeight, beta2, secondMomentWeight, biasCorrection2Root, epsilon, negativeStepSize).
// The _rn intrinsics keep the compiler from contracting into FMAs, so each step rounds as PyTorch's separate ops (and
// the CPU kernel) do.  param, grad, m, v: (count), scalars: (7)
extern "C" __global__ void adamw_f32(float* param, const float* grad, float* m, float* v, const float* scalars,
                                     long long count) {
    const float decay = scalars[0], firstMomentWeight = scalars[1], beta2 = scalars[2];
    const float secondMomentWeight = scalars[3], biasCorrection2Root = scalars[4], epsilon = scalars[5];
    const float negativeStepSize = scalars[6];
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

// MARK: - Gradient clipping

// clip_grad_norm_'s factor, on one thread: norm = (float)sqrt((double)sumOfSquares[0]) (the host reads the f32 sum and
// takes the root in double), coefficient[0] = min(1, maxNorm / (norm + 1e-6)) in f32; a NaN factor gives 1, as the
// host's `coefficient < 1` test does.  sumOfSquares, coefficient: (1)
extern "C" __global__ void clip_coefficient_f32(float* coefficient, const float* sumOfSquares, float maxNorm) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    const float norm = (float)sqrt((double)sumOfSquares[0]);
    const float factor = __fdiv_rn(maxNorm, __fadd_rn(norm, 1e-6f));
    coefficient[0] = factor < 1.0f ? factor : 1.0f;
}
