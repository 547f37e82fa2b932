// Causal packed attention and its backward pass (CUDABackend+Attention.swift). Conventions in common.cuh.

#include "common.cuh"

// MARK: - Attention (causal, packed sequences, grouped-query heads, optional sliding window)

// The sequence holding `token`: start (inclusive) and end (exclusive).  sequenceStarts: (sequences + 1) i32
__device__ void find_sequence(const int* sequenceStarts, int sequences, int token, int& start, int& end) {
    const int s = sequence_of(sequenceStarts, sequences, token);
    start = sequenceStarts[s];
    end = sequenceStarts[s + 1];
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
