// Token sampling on the device (CUDABackend+Sampling.swift). Conventions in common.cuh.

#include "common.cuh"

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
