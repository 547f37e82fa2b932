import SwiftTuneTensor
import SwiftTuneTokenizers

/// One request inside a `GenerationEngine`: its tokens, cache blocks, sampler and answer so far.
///
/// Made by `GenerationEngine.prepare`, given cache blocks by `admit` (and more by each `step` as it grows), advanced
/// by `step` and ended by `release`; the engine alone changes it. A `step` that finds the cache full may preempt it:
/// it then holds no blocks (`isPreempted`) and is admitted again later, recomputing its tokens' keys and values.
/// Read it between steps (`tokens`, `logprobs`, `result`) from the thread that steps.
public final class GenerationSequence: @unchecked Sendable {
    /// The caller's id of the request (its index in `generate`, the scheduler's request id).
    public let id: Int
    public let request: GenerationRequest
    /// Prompt tokens used (after left-truncation, if any).
    public let promptCount: Int
    /// Tokens the sequence may hold in all (prompt and answer).
    let budget: Int
    /// Prompt and the ids generated so far.
    public private(set) var tokens: [Int32]
    /// Per new token, when the request asks for log-probabilities.
    public private(set) var logprobs: [TokenLogprob] = []
    /// Set when the answer has ended.
    public private(set) var result: GenerationResult?
    /// Tokens already in the KV cache.
    var cachedLength = 0
    /// The cache blocks it holds (empty until admitted, and after release).
    var blocks: [Int32] = []
    /// Prefix caching: its leading blocks registered (or found) in the cache, the registered block that stands for
    /// the last of them, and whether the chain may go on (false once a block before it was evicted).
    var registeredBlocks = 0
    var prefixBlock: Int32?
    var canRegister = true
    /// When it was last admitted (the engine's admission count): the newest is preempted first.
    var admittedAt = 0
    /// Times a full cache took its blocks away.
    public private(set) var preemptions = 0
    var generator: SeededGenerator
    var response: ResponseText

    init(id: Int, request: GenerationRequest, prompt: [Int32], budget: Int, tokenizer: Tokenizer) {
        self.id = id
        self.request = request
        promptCount = prompt.count
        self.budget = budget
        tokens = prompt
        generator = SeededGenerator(seed: request.config.seed)
        response = ResponseText(tokenizer: tokenizer, stopStrings: request.config.stopStrings)
    }

    /// Whether a step took its blocks away before it ended: admit it again to go on.
    public var isPreempted: Bool { blocks.isEmpty && result == nil && preemptions > 0 }

    /// Forgets what the cache held for it (its blocks were given back): everything is recomputed when it is admitted
    /// again. Its tokens, answer so far and sampler stay.
    func preempted() {
        blocks = []
        cachedLength = 0
        registeredBlocks = 0
        prefixBlock = nil
        canRegister = true
        preemptions += 1
    }

    /// Whether the whole prompt is in the cache, so this step's logits pick a token.
    var samplesThisStep: Bool { cachedLength == tokens.count }

    /// Takes a sampled token; returns the text it adds and sets `result` when the answer ends.
    func accept(_ choice: TokenChoice, tokenizer: Tokenizer) -> String {
        tokens.append(choice.token)
        let config = request.config
        if config.logprobs, let logprob = choice.logprob {
            func entry(_ id: Int32) -> (String, [UInt8]) {
                let text = tokenizer.decode([id], skipSpecialTokens: false)
                return (text, Array(text.utf8))
            }
            let (token, bytes) = entry(choice.token)
            logprobs.append(TokenLogprob(token: token, logprob: logprob, bytes: bytes, topLogprobs: choice.top.map {
                let (text, bytes) = entry($0.id)
                return TokenLogprob.TopLogprob(token: text, logprob: $0.logprob, bytes: bytes)
            }))
        }
        var delta = ""
        var reason: FinishReason?
        if config.stopTokenIDs.contains(choice.token) {
            reason = .stop
        } else {
            delta = response.append(choice.token)
            if response.stopped { reason = .stop }
        }
        if reason == nil, tokens.count >= budget { reason = .length }
        if var reason {
            delta += response.finish()
            if response.stopped { reason = .stop }  // a stop string in the text flushed at the end
            result = GenerationResult(promptTokenCount: promptCount, tokenIDs: Array(tokens[promptCount...]),
                                      text: response.text, finishReason: reason,
                                      logprobs: config.logprobs ? logprobs : nil)
        }
        return delta
    }
}
