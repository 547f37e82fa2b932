import SwiftTuneTensor
import SwiftTuneTokenizers

/// A request while it runs: its tokens, cache blocks, sampler and answer so far.
final class ActiveSequence {
    let index: Int
    let request: GenerationRequest
    let promptCount: Int
    /// Tokens the sequence may hold in all (prompt and answer).
    let budget: Int
    /// Prompt and the ids generated so far.
    var tokens: [Int32]
    /// Tokens already in the KV cache.
    var cachedLength = 0
    var blocks: [Int32] = []
    var generator: SeededGenerator
    var response: ResponseText
    var logprobs: [TokenLogprob] = []
    /// Set when the sequence is done.
    var result: GenerationResult?

    init(index: Int, request: GenerationRequest, prompt: [Int32], budget: Int, tokenizer: Tokenizer) {
        self.index = index
        self.request = request
        promptCount = prompt.count
        self.budget = budget
        tokens = prompt
        generator = SeededGenerator(seed: request.config.seed)
        response = ResponseText(tokenizer: tokenizer, stopStrings: request.config.stopStrings)
    }

    /// Takes a sampled token; returns the text it adds and sets `result` when the answer ends.
    func accept(_ choice: TokenChoice, tokenizer: Tokenizer) -> String? {
        tokens.append(choice.token)
        let config = request.config
        if let logprob = choice.logprob {
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
