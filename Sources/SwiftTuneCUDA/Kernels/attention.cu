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

// MARK: - Flash attention: bf16 storage, f32 accumulation, tensor cores (FlashAttention-2, arXiv 2307.08691)
//
// Tiling. A tile is 64 rows of one packed sequence (never two): tile t of sequence s covers rows
// sequenceStarts[s] + 64 (t - tileStarts[s]) ..< min(+64, sequenceStarts[s + 1]). `flash_tile_starts` writes the
// prefix sums tileStarts (sequences + 1) on the device, so the host reads nothing; the grid is sized for the worst
// case (ceil(N / 64) + sequences tiles) and a block finds its sequence by binary search of tileStarts, or returns.
// Blocks run the last tiles first (they see the most keys under the causal mask). Grid y is the query head.
// - forward and gradQuery: 4 warps, warp w owns query rows 16w ..< 16w + 16 of the tile and walks the sequence's
//   64-key blocks from the window's first block to the diagonal (causal block skipping); the elementwise mask is
//   applied only in blocks that touch the diagonal, the sequence's end or the window's edge.
// - gradKey / gradValue: a block owns 64 keys (warp w: keys 16w ..< 16w + 16) and walks 32-query steps from its
//   first key to the sequence's end (or the window's last query). It computes the transposed scores Sᵀ = K Qᵀ so
//   that Pᵀ and dSᵀ come out of the accumulators in the A-operand layout of dV += Pᵀ dO and dK += dSᵀ Q.
//   With grouped-query attention the block belongs to one query head; its partial dK, dV go to an f32 buffer
//   [N, Hq, hd] and `flash_reduce_groups` sums the heads of each group in order: deterministic, no atomics.
//   gradQuery has its own kernel (scores recomputed) for the same reason: no float atomics anywhere.
//
// Fragments of mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 (PTX ISA, "Matrix Fragments for mma.m16n8k16"),
// lane = 4 g + t (g = lane / 4, t = lane % 4); a .b32 register holds two bf16, the lower column in the lower half:
// - A (16 x 16, row major), 4 registers: a0 = (row g, cols 2t, 2t+1), a1 = (row g+8, cols 2t..), a2 = (row g,
//   cols 2t+8..), a3 = (row g+8, cols 2t+8..).
// - B (16 x 8, "col": k runs along a register), 2 registers: b0 = (k 2t, 2t+1; col g), b1 = (k 2t+8, 2t+9; col g).
// - C, D (16 x 8 f32), 4 registers: c0, c1 = (row g, cols 2t, 2t+1), c2, c3 = (row g+8, cols 2t, 2t+1).
// Hence two adjacent 8-column accumulators pack into one A operand (c0c1, c2c3 of the first, then of the second):
// the probabilities never leave registers.
// ldmatrix.m8n8.x4 loads four 8 x 8 b16 matrices; lanes 8q ..< 8q + 8 give the row addresses of matrix q, and lane
// l receives in register q the elements (row l / 4, cols 2 (l % 4), +1) of matrix q (with .trans, of its transpose).
// - A from a row-major tile X[r][c]: lane l points at row r0 + l % 16, column k0 + 8 (l / 16).
// - B = Yᵀ from a row-major Y[n][k] (keys for Q Kᵀ): lane l points at row n0 + l % 8 + 8 (l / 16), column
//   k0 + 8 ((l / 8) % 2); registers 0, 1 are b0, b1 of columns n0..n0+7 and registers 2, 3 those of n0+8..n0+15.
// - B = Y from a row-major Y[k][n] (values for P V), with .trans: lane l points at row k0 + l % 8 + 8 ((l / 8) % 2),
//   column n0 + 8 (l / 16); same register order.
// Shared tiles are rows of hd bf16 whose 16-byte chunks are XOR-swizzled (chunk ^ row % 8), so that the eight row
// addresses of one ldmatrix matrix fall in different banks.

#define FLASH_TILE 64
#define FLASH_QUERY_STEP 32
#define FLASH_THREADS 128

typedef unsigned short bf16_bits;

__device__ __forceinline__ unsigned flash_shared_address(const void* pointer) {
    unsigned long long address;
    asm("cvta.to.shared.u64 %0, %1;" : "=l"(address) : "l"(pointer));
    return (unsigned)address;
}

// Element offset of (row, column) in a swizzled tile of HD columns.
template <int HD> __device__ __forceinline__ int flash_offset(int row, int column) {
    return row * HD + ((((column >> 3) ^ (row & 7))) << 3) + (column & 7);
}

__device__ __forceinline__ void ldmatrix_x4(unsigned* r, const bf16_bits* pointer) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(flash_shared_address(pointer)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(unsigned* r, const bf16_bits* pointer) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(flash_shared_address(pointer)));
}

// c (16 x 8 f32) += a (16 x 16 bf16) b (16 x 8 bf16).
__device__ __forceinline__ void mma_bf16(float* c, const unsigned* a, unsigned b0, unsigned b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                 "{%8, %9}, {%0, %1, %2, %3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two f32 as bf16x2 (round to nearest even): `low` in bits 0..15, `high` in 16..31.
__device__ __forceinline__ unsigned pack_bf16(float low, float high) {
    unsigned bits;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(bits) : "f"(high), "f"(low));
    return bits;
}

__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// Copies rows first ..< first + ROWS of a head (source points at its first element of token 0; rows rowStride
// elements apart) into a swizzled tile; rows at or past `limit` become zeros.
template <int HD, int ROWS>
__device__ __forceinline__ void flash_load(bf16_bits* tile, const bf16_bits* source, long long rowStride, int first,
                                           int limit) {
    constexpr int CHUNKS = HD / 8;
    for (int index = threadIdx.x; index < ROWS * CHUNKS; index += FLASH_THREADS) {
        const int row = index / CHUNKS, chunk = index % CHUNKS;
        uint4 bits = make_uint4(0u, 0u, 0u, 0u);
        if (first + row < limit) bits = *(const uint4*)(source + (long long)(first + row) * rowStride + chunk * 8);
        *(uint4*)(tile + flash_offset<HD>(row, chunk * 8)) = bits;
    }
}

// The same copy queued with cp.async (16 bytes per thread per chunk, straight to shared memory, rows at or past
// `limit` zero-filled by a source size of 0): the caller commits the group and waits for it before reading the tile,
// so the copy of the next block overlaps the tensor-core work on this one.
template <int HD, int ROWS>
__device__ __forceinline__ void flash_load_async(bf16_bits* tile, const bf16_bits* source, long long rowStride,
                                                 int first, int limit) {
    constexpr int CHUNKS = HD / 8;
    for (int index = threadIdx.x; index < ROWS * CHUNKS; index += FLASH_THREADS) {
        const int row = index / CHUNKS, chunk = index % CHUNKS;
        const bool inside = first + row < limit;
        const bf16_bits* from = source + (inside ? (long long)(first + row) * rowStride + chunk * 8 : 0);
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;"
                     :: "r"(flash_shared_address(tile + flash_offset<HD>(row, chunk * 8))), "l"(from),
                        "r"(inside ? 16 : 0));
    }
}

// `count` f32 values from `source + first` (a stride of `stride` elements) into shared `values`, zero past `limit`.
__device__ __forceinline__ void flash_load_rows_async(float* values, const float* source, long long stride, int first,
                                                      int limit, int count) {
    for (int index = threadIdx.x; index < count; index += FLASH_THREADS) {
        const bool inside = first + index < limit;
        const float* from = source + (inside ? (long long)(first + index) * stride : 0);
        asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;"
                     :: "r"(flash_shared_address(values + index)), "l"(from), "r"(inside ? 4 : 0));
    }
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;"); }

// Waits until at most N of this thread's committed groups are still in flight.
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" :: "n"(N)); }

// The A operand of rows r0 ..< r0 + 16, columns k0 ..< k0 + 16 of a row-major tile.
template <int HD>
__device__ __forceinline__ void flash_load_a(unsigned* a, const bf16_bits* tile, int r0, int k0) {
    const int lane = threadIdx.x & 31;
    ldmatrix_x4(a, tile + flash_offset<HD>(r0 + (lane & 15), k0 + ((lane >> 4) << 3)));
}

// acc[NB][4] (16 x 8 NB) += X[r0 ..< r0 + 16, :] Y[n0 ..< n0 + 8 NB, :]ᵀ over all HD columns; X, Y row-major tiles.
template <int HD, int NB>
__device__ __forceinline__ void flash_scores(float (*acc)[4], const bf16_bits* x, int r0, const bf16_bits* y, int n0) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int k = 0; k < HD / 16; k++) {
        unsigned a[4];
        flash_load_a<HD>(a, x, r0, k * 16);
#pragma unroll
        for (int pair = 0; pair < NB / 2; pair++) {
            unsigned b[4];
            ldmatrix_x4(b, y + flash_offset<HD>(n0 + pair * 16 + (lane & 7) + ((lane >> 4) << 3),
                                                k * 16 + (((lane >> 3) & 1) << 3)));
            mma_bf16(acc[2 * pair], a, b[0], b[1]);
            mma_bf16(acc[2 * pair + 1], a, b[2], b[3]);
        }
    }
}

// acc[HD / 8][4] (16 x HD) += A (16 x 16 KSTEPS, registers) Y[k0 ..< k0 + 16 KSTEPS, :] for a row-major tile Y.
template <int HD, int KSTEPS>
__device__ __forceinline__ void flash_product(float (*acc)[4], const unsigned (*a)[4], const bf16_bits* y, int k0) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int k = 0; k < KSTEPS; k++) {
#pragma unroll
        for (int pair = 0; pair < HD / 16; pair++) {
            unsigned b[4];
            ldmatrix_x4_trans(b, y + flash_offset<HD>(k0 + k * 16 + (lane & 7) + (((lane >> 3) & 1) << 3),
                                                      pair * 16 + ((lane >> 4) << 3)));
            mma_bf16(acc[2 * pair], a[k], b[0], b[1]);
            mma_bf16(acc[2 * pair + 1], a[k], b[2], b[3]);
        }
    }
}

// Accumulators of 8 KSTEPS... columns (16 x 16 KSTEPS) as A operands: columns 16k ..< 16k + 16 are a[k].
template <int KSTEPS>
__device__ __forceinline__ void flash_pack_a(unsigned (*a)[4], const float (*c)[4]) {
#pragma unroll
    for (int k = 0; k < KSTEPS; k++) {
        a[k][0] = pack_bf16(c[2 * k][0], c[2 * k][1]);
        a[k][1] = pack_bf16(c[2 * k][2], c[2 * k][3]);
        a[k][2] = pack_bf16(c[2 * k + 1][0], c[2 * k + 1][1]);
        a[k][3] = pack_bf16(c[2 * k + 1][2], c[2 * k + 1][3]);
    }
}

// The tile a block works on: its sequence's bounds and its rows; false when the block has no tile.
struct FlashTile {
    int sequenceStart, sequenceEnd, rowStart, rowEnd;
};

__device__ __forceinline__ bool flash_tile(FlashTile& tile, const int* sequenceStarts, const int* tileStarts,
                                           int sequences) {
    const int index = gridDim.x - 1 - blockIdx.x;
    if (index >= tileStarts[sequences]) return false;
    const int s = sequence_of(tileStarts, sequences, index);
    tile.sequenceStart = sequenceStarts[s];
    tile.sequenceEnd = sequenceStarts[s + 1];
    tile.rowStart = tile.sequenceStart + FLASH_TILE * (index - tileStarts[s]);
    tile.rowEnd = min(tile.rowStart + FLASH_TILE, tile.sequenceEnd);
    return true;
}

// Key i may attend to key j: same sequence (j < sequenceEnd; j >= sequenceStart holds by construction), causal,
// and inside the window (window 0: none).
__device__ __forceinline__ bool flash_visible(int i, int j, int sequenceEnd, int window) {
    return j <= i && j < sequenceEnd && (window <= 0 || i - j < window);
}

// The first key block (of the sequence's 64-key blocks) the query rows from rowStart can see.
__device__ __forceinline__ int flash_first_key_block(const FlashTile& tile, int window) {
    const int first = window > 0 ? max(tile.sequenceStart, tile.rowStart - window + 1) : tile.sequenceStart;
    return tile.sequenceStart + (first - tile.sequenceStart) / FLASH_TILE * FLASH_TILE;
}

// tileStarts[s] = Σ_{s' < s} ceil(length(s') / 64) for s in 0...sequences; one block of 1024 threads.
// sequenceStarts, tileStarts: (sequences + 1) i32
extern "C" __global__ void flash_tile_starts(int* tileStarts, const int* sequenceStarts, int sequences) {
    __shared__ int warpTotals[32];
    __shared__ int carry;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (threadIdx.x == 0) {
        carry = 0;
        tileStarts[0] = 0;
    }
    __syncthreads();
    for (int base = 0; base < sequences; base += blockDim.x) {
        const int s = base + threadIdx.x;
        int value = s < sequences ? (sequenceStarts[s + 1] - sequenceStarts[s] + FLASH_TILE - 1) / FLASH_TILE : 0;
        for (int offset = 1; offset < 32; offset <<= 1) {
            const int other = __shfl_up_sync(FULL_MASK, value, offset);
            if (lane >= offset) value += other;
        }
        if (lane == 31) warpTotals[warp] = value;
        __syncthreads();
        if (warp == 0) {
            int total = lane < warps ? warpTotals[lane] : 0;
            for (int offset = 1; offset < 32; offset <<= 1) {
                const int other = __shfl_up_sync(FULL_MASK, total, offset);
                if (lane >= offset) total += other;
            }
            warpTotals[lane] = total;
        }
        __syncthreads();
        const int inclusive = value + (warp > 0 ? warpTotals[warp - 1] : 0) + carry;
        if (s < sequences) tileStarts[s + 1] = inclusive;
        __syncthreads();
        if (threadIdx.x == blockDim.x - 1) carry = inclusive;
        __syncthreads();
    }
}

// Forward: O = softmax(scale Q Kᵀ + mask) V per tile with the online softmax in base 2 (scores times scale·log2 e);
// writes O (bf16) and, when given, logSumExp = ln Σ_j exp(scale q·k_j) (f32). Dynamic shared memory: the Q tile and
// two buffers each of K and V tiles (the next block is copied while this one is used), 5 · 64 · HD bf16.
// query, out: (tokens, queryHeads, HD); key, value: (tokens, keyValueHeads, HD); logSumExp: (tokens, queryHeads) or
// null.
template <int HD>
__device__ void flash_forward(bf16_bits* out, float* logSumExp, const bf16_bits* query, const bf16_bits* key,
                              const bf16_bits* value, const int* sequenceStarts, const int* tileStarts, int sequences,
                              int queryHeads, int keyValueHeads, int window, float scale) {
    extern __shared__ uint4 flashShared[];
    bf16_bits* qTile = (bf16_bits*)flashShared;
    bf16_bits* kTiles = qTile + FLASH_TILE * HD;  // two buffers each
    bf16_bits* vTiles = kTiles + 2 * FLASH_TILE * HD;
    FlashTile tile;
    if (!flash_tile(tile, sequenceStarts, tileStarts, sequences)) return;
    const int h = blockIdx.y, kvHead = h / (queryHeads / keyValueHeads);
    const long long queryStride = (long long)queryHeads * HD, keyStride = (long long)keyValueHeads * HD;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;

    const int firstBlock = flash_first_key_block(tile, window);
    flash_load_async<HD, FLASH_TILE>(qTile, query + h * HD, queryStride, tile.rowStart, tile.rowEnd);
    flash_load_async<HD, FLASH_TILE>(kTiles, key + kvHead * HD, keyStride, firstBlock, tile.sequenceEnd);
    flash_load_async<HD, FLASH_TILE>(vTiles, value + kvHead * HD, keyStride, firstBlock, tile.sequenceEnd);
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();
    unsigned q[HD / 16][4];
#pragma unroll
    for (int k = 0; k < HD / 16; k++) flash_load_a<HD>(q[k], qTile, warp * 16, k * 16);

    float o[HD / 8][4];
#pragma unroll
    for (int n = 0; n < HD / 8; n++) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
    float rowMax[2] = {negative_infinity(), negative_infinity()}, rowSum[2] = {0.0f, 0.0f};
    const int rows[2] = {tile.rowStart + warp * 16 + g, tile.rowStart + warp * 16 + g + 8};
    const float scaleLog2 = scale * 1.4426950408889634f;

    for (int block = firstBlock, buffer = 0; block < tile.rowEnd; block += FLASH_TILE, buffer ^= 1) {
        // Every warp is done with the other buffer (the previous block): queue the next block into it.
        __syncthreads();
        const bf16_bits* kTile = kTiles + buffer * FLASH_TILE * HD;
        const bf16_bits* vTile = vTiles + buffer * FLASH_TILE * HD;
        if (block + FLASH_TILE < tile.rowEnd) {
            flash_load_async<HD, FLASH_TILE>(kTiles + (buffer ^ 1) * FLASH_TILE * HD, key + kvHead * HD, keyStride,
                                             block + FLASH_TILE, tile.sequenceEnd);
            flash_load_async<HD, FLASH_TILE>(vTiles + (buffer ^ 1) * FLASH_TILE * HD, value + kvHead * HD,
                                             keyStride, block + FLASH_TILE, tile.sequenceEnd);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();

        float s[FLASH_TILE / 8][4];
#pragma unroll
        for (int n = 0; n < FLASH_TILE / 8; n++) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
        for (int k = 0; k < HD / 16; k++) {
#pragma unroll
            for (int pair = 0; pair < FLASH_TILE / 16; pair++) {
                unsigned b[4];
                ldmatrix_x4(b, kTile + flash_offset<HD>(pair * 16 + (lane & 7) + ((lane >> 4) << 3),
                                                        k * 16 + (((lane >> 3) & 1) << 3)));
                mma_bf16(s[2 * pair], q[k], b[0], b[1]);
                mma_bf16(s[2 * pair + 1], q[k], b[2], b[3]);
            }
        }
        const bool masked = block + FLASH_TILE - 1 > tile.rowStart || block + FLASH_TILE > tile.sequenceEnd ||
                            (window > 0 && tile.rowEnd - 1 - block >= window);
        float blockMax[2] = {negative_infinity(), negative_infinity()};
#pragma unroll
        for (int n = 0; n < FLASH_TILE / 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                float x = s[n][e] * scaleLog2;
                if (masked && !flash_visible(rows[e >> 1], block + n * 8 + 2 * t + (e & 1), tile.sequenceEnd, window))
                    x = negative_infinity();
                s[n][e] = x;
                blockMax[e >> 1] = fmaxf(blockMax[e >> 1], x);
            }
        }
        float correction[2], base[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            // The four lanes t of a group hold the row's 64 scores.
            blockMax[r] = fmaxf(blockMax[r], __shfl_xor_sync(FULL_MASK, blockMax[r], 1));
            blockMax[r] = fmaxf(blockMax[r], __shfl_xor_sync(FULL_MASK, blockMax[r], 2));
            const float newMax = fmaxf(rowMax[r], blockMax[r]);
            base[r] = newMax == negative_infinity() ? 0.0f : newMax;  // a row with nothing visible yet stays 0
            correction[r] = fast_exp2(rowMax[r] - base[r]);
            rowMax[r] = newMax;
            rowSum[r] *= correction[r];
        }
#pragma unroll
        for (int n = 0; n < FLASH_TILE / 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                s[n][e] = fast_exp2(s[n][e] - base[e >> 1]);
                rowSum[e >> 1] += s[n][e];
            }
        }
#pragma unroll
        for (int n = 0; n < HD / 8; n++) {
            o[n][0] *= correction[0];
            o[n][1] *= correction[0];
            o[n][2] *= correction[1];
            o[n][3] *= correction[1];
        }
        unsigned p[FLASH_TILE / 16][4];
        flash_pack_a<FLASH_TILE / 16>(p, s);
        flash_product<HD, FLASH_TILE / 16>(o, p, vTile, 0);
    }

#pragma unroll
    for (int r = 0; r < 2; r++) {
        rowSum[r] += __shfl_xor_sync(FULL_MASK, rowSum[r], 1);
        rowSum[r] += __shfl_xor_sync(FULL_MASK, rowSum[r], 2);
    }
    const float inverse[2] = {rowSum[0] > 0.0f ? 1.0f / rowSum[0] : 0.0f, rowSum[1] > 0.0f ? 1.0f / rowSum[1] : 0.0f};
#pragma unroll
    for (int r = 0; r < 2; r++) {
        if (rows[r] >= tile.rowEnd) continue;
        bf16_bits* row = out + rows[r] * queryStride + h * HD;
#pragma unroll
        for (int n = 0; n < HD / 8; n++)
            *(unsigned*)(row + n * 8 + 2 * t) = pack_bf16(o[n][2 * r] * inverse[r], o[n][2 * r + 1] * inverse[r]);
        if (logSumExp != 0 && t == 0)
            logSumExp[(long long)rows[r] * queryHeads + h] = (rowMax[r] + log2f(rowSum[r])) * 0.6931471805599453f;
    }
}

// delta[i, h] = Σ_d gradOut[i, h, d] out[i, h, d] in f32, one warp per row. out, gradOut: (rows, headDim) bf16;
// delta: (rows) f32.
extern "C" __global__ void flash_backward_delta_bf16(float* delta, const bf16_bits* out, const bf16_bits* gradOut,
                                                     long long rows, int headDim) {
    const long long row = blockIdx.x * (long long)(blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const int lane = threadIdx.x & 31;
    float sum = 0.0f;
    for (int d = lane; d < headDim; d += 32)
        sum += bf16_to_float(gradOut[row * headDim + d]) * bf16_to_float(out[row * headDim + d]);
    sum = warp_sum(sum);
    if (lane == 0) delta[row] = sum;
}

// gradQuery per query tile (overwriting): P = exp2(scale·log2e S - log2e·lse), dP = dO Vᵀ, dS = P (dP - delta),
// dQ = scale dS K over the key blocks the forward pass visited. Dynamic shared memory: Q, dO tiles and two buffers
// each of K, V tiles, 6 · 64 · HD bf16.
template <int HD>
__device__ void flash_backward_query(bf16_bits* gradQuery, const bf16_bits* query, const bf16_bits* key,
                                     const bf16_bits* value, const float* logSumExp, const float* delta,
                                     const bf16_bits* gradOut, const int* sequenceStarts, const int* tileStarts,
                                     int sequences, int queryHeads, int keyValueHeads, int window, float scale) {
    extern __shared__ uint4 flashShared[];
    bf16_bits* qTile = (bf16_bits*)flashShared;
    bf16_bits* gTile = qTile + FLASH_TILE * HD;
    bf16_bits* kTiles = gTile + FLASH_TILE * HD;  // two buffers each
    bf16_bits* vTiles = kTiles + 2 * FLASH_TILE * HD;
    FlashTile tile;
    if (!flash_tile(tile, sequenceStarts, tileStarts, sequences)) return;
    const int h = blockIdx.y, kvHead = h / (queryHeads / keyValueHeads);
    const long long queryStride = (long long)queryHeads * HD, keyStride = (long long)keyValueHeads * HD;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const float scaleLog2 = scale * 1.4426950408889634f;

    const int firstBlock = flash_first_key_block(tile, window);
    flash_load_async<HD, FLASH_TILE>(qTile, query + h * HD, queryStride, tile.rowStart, tile.rowEnd);
    flash_load_async<HD, FLASH_TILE>(gTile, gradOut + h * HD, queryStride, tile.rowStart, tile.rowEnd);
    flash_load_async<HD, FLASH_TILE>(kTiles, key + kvHead * HD, keyStride, firstBlock, tile.sequenceEnd);
    flash_load_async<HD, FLASH_TILE>(vTiles, value + kvHead * HD, keyStride, firstBlock, tile.sequenceEnd);
    cp_async_commit();
    const int rows[2] = {tile.rowStart + warp * 16 + g, tile.rowStart + warp * 16 + g + 8};
    float lse[2], rowDelta[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
        const bool valid = rows[r] < tile.rowEnd;
        const long long index = (long long)rows[r] * queryHeads + h;
        lse[r] = valid ? logSumExp[index] * 1.4426950408889634f : __int_as_float(0x7f800000);
        rowDelta[r] = valid ? delta[index] : 0.0f;
    }
    float dq[HD / 8][4];
#pragma unroll
    for (int n = 0; n < HD / 8; n++) dq[n][0] = dq[n][1] = dq[n][2] = dq[n][3] = 0.0f;

    for (int block = firstBlock, buffer = 0; block < tile.rowEnd; block += FLASH_TILE, buffer ^= 1) {
        __syncthreads();  // every warp is done with the other buffer: queue the next block into it
        const bf16_bits* kTile = kTiles + buffer * FLASH_TILE * HD;
        const bf16_bits* vTile = vTiles + buffer * FLASH_TILE * HD;
        if (block + FLASH_TILE < tile.rowEnd) {
            flash_load_async<HD, FLASH_TILE>(kTiles + (buffer ^ 1) * FLASH_TILE * HD, key + kvHead * HD, keyStride,
                                             block + FLASH_TILE, tile.sequenceEnd);
            flash_load_async<HD, FLASH_TILE>(vTiles + (buffer ^ 1) * FLASH_TILE * HD, value + kvHead * HD,
                                             keyStride, block + FLASH_TILE, tile.sequenceEnd);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        float s[FLASH_TILE / 8][4], dp[FLASH_TILE / 8][4];
#pragma unroll
        for (int n = 0; n < FLASH_TILE / 8; n++) {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
            dp[n][0] = dp[n][1] = dp[n][2] = dp[n][3] = 0.0f;
        }
        flash_scores<HD, FLASH_TILE / 8>(s, qTile, warp * 16, kTile, 0);
        flash_scores<HD, FLASH_TILE / 8>(dp, gTile, warp * 16, vTile, 0);
        const bool masked = block + FLASH_TILE - 1 > tile.rowStart || block + FLASH_TILE > tile.sequenceEnd ||
                            (window > 0 && tile.rowEnd - 1 - block >= window);
#pragma unroll
        for (int n = 0; n < FLASH_TILE / 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int r = e >> 1;
                float p = fast_exp2(s[n][e] * scaleLog2 - lse[r]);
                if (masked && !flash_visible(rows[r], block + n * 8 + 2 * t + (e & 1), tile.sequenceEnd, window))
                    p = 0.0f;
                s[n][e] = p * (dp[n][e] - rowDelta[r]);  // dS
            }
        }
        unsigned ds[FLASH_TILE / 16][4];
        flash_pack_a<FLASH_TILE / 16>(ds, s);
        flash_product<HD, FLASH_TILE / 16>(dq, ds, kTile, 0);
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        if (rows[r] >= tile.rowEnd) continue;
        bf16_bits* row = gradQuery + rows[r] * queryStride + h * HD;
#pragma unroll
        for (int n = 0; n < HD / 8; n++)
            *(unsigned*)(row + n * 8 + 2 * t) = pack_bf16(scale * dq[n][2 * r], scale * dq[n][2 * r + 1]);
    }
}

// gradKey and gradValue of one key tile for one query head h: dV = Σ_i Pᵀ dO, dK = scale Σ_i dSᵀ Q over the queries
// that see the tile's keys. With one query head per key-value head (partialKey null) it overwrites gradKey and
// gradValue (bf16, (tokens, keyValueHeads, HD)); otherwise it writes f32 partials (tokens, queryHeads, HD) that
// flash_reduce_groups sums. Dynamic shared memory: K, V tiles of 64 rows and two buffers of Q, dO tiles of 32 rows,
// (2·64 + 4·32) · HD bf16, then two buffers of 2 · 32 f32 (lse and delta of the 32 queries).
template <int HD>
__device__ void flash_backward_key_value(bf16_bits* gradKey, bf16_bits* gradValue, float* partialKey,
                                         float* partialValue, const bf16_bits* query, const bf16_bits* key,
                                         const bf16_bits* value, const float* logSumExp, const float* delta,
                                         const bf16_bits* gradOut, const int* sequenceStarts, const int* tileStarts,
                                         int sequences, int queryHeads, int keyValueHeads, int window, float scale) {
    extern __shared__ uint4 flashShared[];
    bf16_bits* kTile = (bf16_bits*)flashShared;
    bf16_bits* vTile = kTile + FLASH_TILE * HD;
    bf16_bits* qTiles = vTile + FLASH_TILE * HD;  // two buffers each of Q, dO, lse, delta
    bf16_bits* gTiles = qTiles + 2 * FLASH_QUERY_STEP * HD;
    float* lseSteps = (float*)(gTiles + 2 * FLASH_QUERY_STEP * HD);
    float* deltaSteps = lseSteps + 2 * FLASH_QUERY_STEP;
    FlashTile tile;  // rows are keys here
    if (!flash_tile(tile, sequenceStarts, tileStarts, sequences)) return;
    const int h = blockIdx.y, kvHead = h / (queryHeads / keyValueHeads);
    const long long queryStride = (long long)queryHeads * HD, keyStride = (long long)keyValueHeads * HD;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const float scaleLog2 = scale * 1.4426950408889634f;
    const int lastQuery = window > 0 ? min(tile.sequenceEnd - 1, tile.rowEnd - 1 + window - 1) : tile.sequenceEnd - 1;
    // Queues the Q, dO rows, lse and delta of the query step from `step` into buffer `buffer`.
    auto loadStep = [&](int step, int buffer) {
        flash_load_async<HD, FLASH_QUERY_STEP>(qTiles + buffer * FLASH_QUERY_STEP * HD, query + h * HD, queryStride,
                                               step, tile.sequenceEnd);
        flash_load_async<HD, FLASH_QUERY_STEP>(gTiles + buffer * FLASH_QUERY_STEP * HD, gradOut + h * HD,
                                               queryStride, step, tile.sequenceEnd);
        flash_load_rows_async(lseSteps + buffer * FLASH_QUERY_STEP, logSumExp + h, queryHeads, step,
                              tile.sequenceEnd, FLASH_QUERY_STEP);
        flash_load_rows_async(deltaSteps + buffer * FLASH_QUERY_STEP, delta + h, queryHeads, step,
                              tile.sequenceEnd, FLASH_QUERY_STEP);
    };

    flash_load_async<HD, FLASH_TILE>(kTile, key + kvHead * HD, keyStride, tile.rowStart, tile.rowEnd);
    flash_load_async<HD, FLASH_TILE>(vTile, value + kvHead * HD, keyStride, tile.rowStart, tile.rowEnd);
    loadStep(tile.rowStart, 0);
    cp_async_commit();
    const int keys[2] = {tile.rowStart + warp * 16 + g, tile.rowStart + warp * 16 + g + 8};
    float dk[HD / 8][4], dv[HD / 8][4];
#pragma unroll
    for (int n = 0; n < HD / 8; n++) {
        dk[n][0] = dk[n][1] = dk[n][2] = dk[n][3] = 0.0f;
        dv[n][0] = dv[n][1] = dv[n][2] = dv[n][3] = 0.0f;
    }

    for (int step = tile.rowStart, buffer = 0; step <= lastQuery; step += FLASH_QUERY_STEP, buffer ^= 1) {
        __syncthreads();  // every warp is done with the other buffer: queue the next step into it
        if (step + FLASH_QUERY_STEP <= lastQuery) {
            loadStep(step + FLASH_QUERY_STEP, buffer ^ 1);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        const bf16_bits* qTile = qTiles + buffer * FLASH_QUERY_STEP * HD;
        const bf16_bits* gTile = gTiles + buffer * FLASH_QUERY_STEP * HD;
        const float* lseStep = lseSteps + buffer * FLASH_QUERY_STEP;  // ln-based; scaled by log2 e below
        const float* deltaStep = deltaSteps + buffer * FLASH_QUERY_STEP;
        // Sᵀ and dPᵀ: 16 keys of this warp x 32 queries.
        float s[FLASH_QUERY_STEP / 8][4], dp[FLASH_QUERY_STEP / 8][4];
#pragma unroll
        for (int n = 0; n < FLASH_QUERY_STEP / 8; n++) {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
            dp[n][0] = dp[n][1] = dp[n][2] = dp[n][3] = 0.0f;
        }
        flash_scores<HD, FLASH_QUERY_STEP / 8>(s, kTile, warp * 16, qTile, 0);
        const bool masked = step < tile.rowEnd - 1 || step + FLASH_QUERY_STEP > tile.sequenceEnd ||
                            (window > 0 && step + FLASH_QUERY_STEP - 1 - tile.rowStart >= window);
#pragma unroll
        for (int n = 0; n < FLASH_QUERY_STEP / 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int column = n * 8 + 2 * t + (e & 1);
                float p = fast_exp2(s[n][e] * scaleLog2 - lseStep[column] * 1.4426950408889634f);
                // Queries past the sequence's end were zero-filled (lse 0): they must see nothing.
                if (masked && (step + column >= tile.sequenceEnd ||
                               !flash_visible(step + column, keys[e >> 1], tile.sequenceEnd, window)))
                    p = 0.0f;
                s[n][e] = p;
            }
        }
        unsigned a[FLASH_QUERY_STEP / 16][4];
        flash_pack_a<FLASH_QUERY_STEP / 16>(a, s);
        flash_product<HD, FLASH_QUERY_STEP / 16>(dv, a, gTile, 0);
        flash_scores<HD, FLASH_QUERY_STEP / 8>(dp, vTile, warp * 16, gTile, 0);
#pragma unroll
        for (int n = 0; n < FLASH_QUERY_STEP / 8; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) s[n][e] *= dp[n][e] - deltaStep[n * 8 + 2 * t + (e & 1)];  // dSᵀ
        }
        flash_pack_a<FLASH_QUERY_STEP / 16>(a, s);
        flash_product<HD, FLASH_QUERY_STEP / 16>(dk, a, qTile, 0);
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        const int j = keys[r];
        if (j >= tile.rowEnd) continue;
        if (partialKey != 0) {
            float* keyRow = partialKey + ((long long)j * queryHeads + h) * HD;
            float* valueRow = partialValue + ((long long)j * queryHeads + h) * HD;
#pragma unroll
            for (int n = 0; n < HD / 8; n++) {
                *(float2*)(keyRow + n * 8 + 2 * t) = make_float2(scale * dk[n][2 * r], scale * dk[n][2 * r + 1]);
                *(float2*)(valueRow + n * 8 + 2 * t) = make_float2(dv[n][2 * r], dv[n][2 * r + 1]);
            }
        } else {
            bf16_bits* keyRow = gradKey + j * keyStride + kvHead * HD;
            bf16_bits* valueRow = gradValue + j * keyStride + kvHead * HD;
#pragma unroll
            for (int n = 0; n < HD / 8; n++) {
                *(unsigned*)(keyRow + n * 8 + 2 * t) = pack_bf16(scale * dk[n][2 * r], scale * dk[n][2 * r + 1]);
                *(unsigned*)(valueRow + n * 8 + 2 * t) = pack_bf16(dv[n][2 * r], dv[n][2 * r + 1]);
            }
        }
    }
}

// grad[j, kv, d] = Σ_{m < group} partial[j, kv·group + m, d] in order, as bf16 (gradKey and gradValue in one launch).
// partialKey, partialValue: (tokens, queryHeads, headDim) f32; gradKey, gradValue: (tokens, keyValueHeads, headDim).
extern "C" __global__ void flash_reduce_groups_bf16(bf16_bits* gradKey, bf16_bits* gradValue, const float* partialKey,
                                                    const float* partialValue, long long count, int group,
                                                    int headDim) {
    for (long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x; index < count;
         index += (long long)gridDim.x * blockDim.x) {
        const long long row = index / headDim, d = index % headDim;  // row = j · keyValueHeads + kv
        const long long first = row * group * headDim + d;
        float keySum = 0.0f, valueSum = 0.0f;
        for (int m = 0; m < group; m++) {
            keySum += partialKey[first + (long long)m * headDim];
            valueSum += partialValue[first + (long long)m * headDim];
        }
        gradKey[index] = float_to_bf16(keySum);
        gradValue[index] = float_to_bf16(valueSum);
    }
}

// The exported kernels, one per head dimension (64, 128), launched with FLASH_THREADS threads.
extern "C" __global__ void __launch_bounds__(FLASH_THREADS) flash_attention_forward_hd64_bf16(
    bf16_bits* out, float* logSumExp, const bf16_bits* query, const bf16_bits* key, const bf16_bits* value,
    const int* sequenceStarts, const int* tileStarts, int sequences, int queryHeads, int keyValueHeads, int window,
    float scale) {
    flash_forward<64>(out, logSumExp, query, key, value, sequenceStarts, tileStarts, sequences, queryHeads,
                       keyValueHeads, window, scale);
}

extern "C" __global__ void __launch_bounds__(FLASH_THREADS) flash_attention_backward_query_hd64_bf16(
    bf16_bits* gradQuery, const bf16_bits* query, const bf16_bits* key, const bf16_bits* value, const float* logSumExp,
    const float* delta, const bf16_bits* gradOut, const int* sequenceStarts, const int* tileStarts, int sequences,
    int queryHeads, int keyValueHeads, int window, float scale) {
    flash_backward_query<64>(gradQuery, query, key, value, logSumExp, delta, gradOut, sequenceStarts, tileStarts,
                              sequences, queryHeads, keyValueHeads, window, scale);
}

extern "C" __global__ void __launch_bounds__(FLASH_THREADS) flash_attention_backward_key_value_hd64_bf16(
    bf16_bits* gradKey, bf16_bits* gradValue, float* partialKey, float* partialValue, const bf16_bits* query,
    const bf16_bits* key, const bf16_bits* value, const float* logSumExp, const float* delta, const bf16_bits* gradOut,
    const int* sequenceStarts, const int* tileStarts, int sequences, int queryHeads, int keyValueHeads, int window,
    float scale) {
    flash_backward_key_value<64>(gradKey, gradValue, partialKey, partialValue, query, key, value, logSumExp, delta,
                                  gradOut, sequenceStarts, tileStarts, sequences, queryHeads, keyValueHeads, window,
                                  scale);
}

extern "C" __global__ void __launch_bounds__(FLASH_THREADS) flash_attention_forward_hd128_bf16(
    bf16_bits* out, float* logSumExp, const bf16_bits* query, const bf16_bits* key, const bf16_bits* value,
    const int* sequenceStarts, const int* tileStarts, int sequences, int queryHeads, int keyValueHeads, int window,
    float scale) {
    flash_forward<128>(out, logSumExp, query, key, value, sequenceStarts, tileStarts, sequences, queryHeads,
                       keyValueHeads, window, scale);
}

extern "C" __global__ void __launch_bounds__(FLASH_THREADS) flash_attention_backward_query_hd128_bf16(
    bf16_bits* gradQuery, const bf16_bits* query, const bf16_bits* key, const bf16_bits* value, const float* logSumExp,
    const float* delta, const bf16_bits* gradOut, const int* sequenceStarts, const int* tileStarts, int sequences,
    int queryHeads, int keyValueHeads, int window, float scale) {
    flash_backward_query<128>(gradQuery, query, key, value, logSumExp, delta, gradOut, sequenceStarts, tileStarts,
                              sequences, queryHeads, keyValueHeads, window, scale);
}

extern "C" __global__ void __launch_bounds__(FLASH_THREADS) flash_attention_backward_key_value_hd128_bf16(
    bf16_bits* gradKey, bf16_bits* gradValue, float* partialKey, float* partialValue, const bf16_bits* query,
    const bf16_bits* key, const bf16_bits* value, const float* logSumExp, const float* delta, const bf16_bits* gradOut,
    const int* sequenceStarts, const int* tileStarts, int sequences, int queryHeads, int keyValueHeads, int window,
    float scale) {
    flash_backward_key_value<128>(gradKey, gradValue, partialKey, partialValue, query, key, value, logSumExp, delta,
                                  gradOut, sequenceStarts, tileStarts, sequences, queryHeads, keyValueHeads, window,
                                  scale);
}
