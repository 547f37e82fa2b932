// Softmax cross-entropy fused with its gradient (CUDABackend+CrossEntropy.swift). Conventions in common.cuh.

#include "common.cuh"

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
