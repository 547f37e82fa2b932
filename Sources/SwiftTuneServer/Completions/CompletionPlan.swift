import Foundation
import SwiftTuneEngine
import SwiftTuneGeneration

/// One OpenAI request turned into engine requests: its prompts (one for chat, one per `prompt` entry for text
/// completions), `n` choices each, the adapter its `model` names, and the decoding config from its sampling
/// fields over the server's defaults. Every check here answers 400 (404 for an unknown model) before any work.
struct CompletionPlan: Sendable {
    let model: ServedModel
    let adapter: String?
    /// Prompt token ids, one entry per prompt.
    let prompts: [[Int32]]
    /// The config of choice `i` of each prompt (seeds `seed + i`).
    let configs: [GenerationConfig]

    /// `n` for each prompt: choice `index = prompt · n + i`.
    var choicesPerPrompt: Int { configs.count }
    var promptTokenCount: Int { prompts.reduce(0) { $0 + $1.count } }

    /// Checks the prompts against the context and `max_tokens`, and builds the configs. `promptParam` names the
    /// field a too-long prompt came from (`messages`, `prompt`).
    init(model: ServedModel, modelName: String, prompts: [[Int32]], sampling: SamplingFields,
         promptParam: String) throws(OpenAIError) {
        self.model = model
        adapter = try model.adapter(forModel: modelName)
        let context = model.inference.engine.maxModelLength
        for prompt in prompts {
            guard !prompt.isEmpty else {
                throw .invalidRequest("'\(promptParam)' must not be empty.", param: promptParam)
            }
            guard prompt.count < context else {
                throw .invalidRequest(
                    "This model's maximum context length is \(context) tokens, but the \(promptParam) take \(prompt.count) "
                        + "tokens, leaving no room for an answer. Shorten the \(promptParam).",
                    param: promptParam, code: "context_length_exceeded")
            }
            if let maxTokens = sampling.flags.maxNewTokens, prompt.count + maxTokens > context {
                throw .invalidRequest(
                    "This model's maximum context length is \(context) tokens. However, you requested "
                        + "\(prompt.count + maxTokens) tokens (\(prompt.count) in the \(promptParam), \(maxTokens) in the "
                        + "completion). Reduce the length of the \(promptParam) or 'max_tokens'.",
                    param: "max_tokens", code: "context_length_exceeded")
            }
        }
        self.prompts = prompts
        let base = try Self.config(sampling, defaults: model.inference.generationConfig)
        configs = (0..<sampling.n).map { i in
            var config = base
            config.seed = base.seed &+ UInt64(i)
            return config
        }
    }

    /// The server's default config (the model's `generation_config.json`, the template's stops) with the
    /// request's fields over it. A request without `seed` draws one, so sampled answers differ between calls.
    static func config(_ sampling: SamplingFields, defaults: GenerationConfig) throws(OpenAIError) -> GenerationConfig {
        // Log-probabilities are what the request says (off when absent), whatever the server's defaults.
        var flags = sampling.flags
        flags.logprobs = sampling.logprobs
        flags.topLogprobs = flags.topLogprobs ?? 0
        flags.truncation = .error
        var config = defaults.applying(flags)
        for stop in sampling.stop where !stop.isEmpty && !config.stopStrings.contains(stop) {
            config.stopStrings.append(stop)
        }
        if sampling.stop.contains("") { throw .invalidRequest("'stop' sequences must not be empty.", param: "stop") }
        if let top = sampling.flags.topLogprobs, top > 0, !sampling.logprobs {
            throw .invalidRequest("'top_logprobs' requires 'logprobs' to be true.", param: "top_logprobs")
        }
        config.seed = sampling.flags.seed ?? UInt64.random(in: 0...UInt64.max)
        do {
            try config.validate()
        } catch {
            throw OpenAIError.generation(error)
        }
        return config
    }

    /// Submits every choice to the scheduler; a refusal cancels the ones already accepted.
    func submit() async throws(OpenAIError) -> [GenerationStream] {
        var streams: [GenerationStream] = []
        do {
            for prompt in prompts {
                for config in configs {
                    streams.append(try await model.scheduler.submit(
                        GenerationRequest(promptIDs: prompt, config: config, adapter: adapter)))
                }
            }
        } catch {
            for stream in streams { stream.cancel() }
            throw OpenAIError.generation(error)
        }
        return streams
    }
}

/// Every choice's updates in one sequence, as they come: `(choice index, update)`. Ending the iteration (or
/// cancelling its task) cancels every choice still running.
func mergedUpdates(_ streams: [GenerationStream]) -> AsyncStream<(choice: Int, update: GenerationUpdate)> {
    AsyncStream { continuation in
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                for (index, stream) in streams.enumerated() {
                    group.addTask {
                        for await update in stream { continuation.yield((index, update)) }
                    }
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { termination in
            guard case .cancelled = termination else { return }
            task.cancel()
            for stream in streams { stream.cancel() }
        }
    }
}
