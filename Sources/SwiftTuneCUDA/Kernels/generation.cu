// The paged KV cache: writing new keys and values, attention over the cache (CUDABackend+Generation.swift).
// Conventions in common.cuh. Each kernel is a template over the storage type T of the rows and the cache (float or
// bf16), exported as <function>_f32 and <function>_bf16; attention computes in f32.

#include "common.cuh"

// MARK: - Paged KV cache (generation; block layout of PagedAttention, https://arxiv.org/abs/2309.06180)

// keyCache[slots[n]] = key[n] and valueCache[slots[n]] = value[n] (bit for bit) for every row n with slots[n] >= 0
// (the host checks that slots are distinct and in range). key, value: (tokens, rowWidth); caches:
// (blocks * blockSize, rowWidth), rowWidth = keyValueHeads * headDim.
template <typename T>
__device__ void write_kv_cache(T* keyCache, T* valueCache, const T* key, const T* value, const int* slots,
                               long long tokens, int rowWidth) {
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
extern "C" __global__ void write_kv_cache_f32(float* keyCache, float* valueCache, const float* key, const float* value,
                                              const int* slots, long long tokens, int rowWidth) {
    write_kv_cache(keyCache, valueCache, key, value, slots, tokens, rowWidth);
}
extern "C" __global__ void write_kv_cache_bf16(bf16* keyCache, bf16* valueCache, const bf16* key, const bf16* value,
                                               const int* slots, long long tokens, int rowWidth) {
    write_kv_cache(keyCache, valueCache, key, value, slots, tokens, rowWidth);
}

// Offset of the kvHead row of cache position p for the block table `table` (one sequence's row).
__device__ __forceinline__ long long paged_row(const int* table, int p, int blockSize, int keyValueHeads, int kvHead,
                                               int headDim) {
    const long long slot = (long long)table[p / blockSize] * blockSize + p % blockSize;
    return (slot * keyValueHeads + kvHead) * headDim;
}

// One block per (new token i, query head h), the two passes of attention_forward_f32 with keys and values read through
// the block table; scores, probabilities and the output are accumulated in f32, the output rounded once into T.
// New row t of sequence s sits at position p = contextLengths[s] - q_s + t (q_s = its new rows) and sees positions
// j <= p with, when window > 0, p - j < window.
// query, out: (tokens, queryHeads, headDim); caches: (blocks, blockSize, keyValueHeads, headDim);
// blockTables: (sequences, maxBlocks); contextLengths: (sequences); queryStarts: (sequences + 1)
template <typename T>
__device__ void paged_attention(T* out, const T* query, const T* keyCache, const T* valueCache, const int* blockTables,
                                const int* contextLengths, const int* queryStarts, int sequences, int maxBlocks,
                                int blockSize, int queryHeads, int keyValueHeads, int headDim, int window, float scale) {
    __shared__ float q[MAX_HEAD_DIM];
    __shared__ float probabilities[MAX_ATTENTION_BLOCK];
    __shared__ float scratch[32];
    const int i = blockIdx.x, h = blockIdx.y, tid = threadIdx.x;
    const int kvHead = h / (queryHeads / keyValueHeads);
    const long long queryRow = ((long long)i * queryHeads + h) * headDim;
    for (int d = tid; d < headDim; d += blockDim.x) q[d] = to_float(query[queryRow + d]);
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
                    * to_float(valueCache[paged_row(table, tile + t, blockSize, keyValueHeads, kvHead, headDim) + tid]);
        }
    }
    const float total = block_sum(partialSum, scratch);
    if (tid < headDim) out[queryRow + tid] = from_float<T>(accumulator / total);
}
extern "C" __global__ void paged_attention_f32(float* out, const float* query, const float* keyCache,
                                               const float* valueCache, const int* blockTables,
                                               const int* contextLengths, const int* queryStarts, int sequences,
                                               int maxBlocks, int blockSize, int queryHeads, int keyValueHeads,
                                               int headDim, int window, float scale) {
    paged_attention(out, query, keyCache, valueCache, blockTables, contextLengths, queryStarts, sequences, maxBlocks,
                    blockSize, queryHeads, keyValueHeads, headDim, window, scale);
}
extern "C" __global__ void paged_attention_bf16(bf16* out, const bf16* query, const bf16* keyCache,
                                                const bf16* valueCache, const int* blockTables,
                                                const int* contextLengths, const int* queryStarts, int sequences,
                                                int maxBlocks, int blockSize, int queryHeads, int keyValueHeads,
                                                int headDim, int window, float scale) {
    paged_attention(out, query, keyCache, valueCache, blockTables, contextLengths, queryStarts, sequences, maxBlocks,
                    blockSize, queryHeads, keyValueHeads, headDim, window, scale);
}
