/// The engine's sizes: how many sequences step together, the context, and the KV cache.
public struct EngineOptions: Sendable, Equatable {
    /// Sequences decoded together (ms-swift's `--max_batch_size`); more requests wait and join as others finish.
    public var maxBatchSize: Int
    /// Tokens a sequence may hold, prompt and answer (`--max_model_len`); nil: the model's
    /// `max_position_embeddings`.
    public var maxModelLength: Int?
    /// Tokens per KV cache block.
    public var blockSize: Int
    /// Tokens the KV cache holds in all; nil: `maxBatchSize × maxModelLength`, so every admitted request fits. A
    /// smaller cache admits requests while their prompts fit and preempts the newest when answers outgrow it (each
    /// is recomputed later with the same tokens); it must hold one request's prompt and answer.
    public var cacheTokens: Int?
    /// Prompt tokens a sequence feeds per step (longer prompts are prefilled in chunks).
    public var prefillChunk: Int
    /// Reuse the keys and values of full cache blocks whose tokens (and everything before them) another request
    /// already computed: shared system prompts, few-shot examples, a conversation's earlier turns (vLLM's
    /// `--enable_prefix_caching`). Cached blocks outlive their request until their space is needed, so only for a
    /// model whose weights stay fixed (serving); after changing the weights call `clearPrefixCache()`.
    public var prefixCaching: Bool

    public init(maxBatchSize: Int = 1, maxModelLength: Int? = nil, blockSize: Int = 16, cacheTokens: Int? = nil,
                prefillChunk: Int = 2048, prefixCaching: Bool = false) {
        self.maxBatchSize = maxBatchSize
        self.maxModelLength = maxModelLength
        self.blockSize = blockSize
        self.cacheTokens = cacheTokens
        self.prefillChunk = prefillChunk
        self.prefixCaching = prefixCaching
    }
}
