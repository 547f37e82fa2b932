import Foundation
import Hummingbird
import SwiftTuneEngine
import SwiftTuneGeneration

/// How one endpoint writes its answers: the whole response, and the chunks of a stream.
protocol CompletionFormat: Sendable {
    associatedtype Chunk: Encodable & Sendable
    associatedtype Full: Encodable & Sendable

    /// Chunks sent before any token (chat: each choice's assistant role; completions with `echo`: the prompt).
    func openingChunks(choiceCount: Int) -> [Chunk]
    /// New text of one choice, with the log-probabilities of its tokens when asked for.
    func deltaChunk(choice: Int, text: String, logprobs: [SwiftTuneEngine.TokenLogprob]) -> Chunk
    /// The last chunk of one choice: its finish reason.
    func finishChunk(choice: Int, result: GenerationResult) -> Chunk
    /// `stream_options.include_usage`: the closing chunk with the token counts and no choices.
    func usageChunk(_ usage: Usage) -> Chunk
    /// The non-streamed response.
    func response(results: [GenerationResult], usage: Usage) -> Full
}

/// Runs a `CompletionPlan` and answers in a `CompletionFormat`: one JSON response, or server-sent events (each
/// chunk `data: {...}`, ending with `data: [DONE]`). A client that disconnects stops its generation.
enum CompletionRunner {
    static func respond<Format: CompletionFormat>(
        _ plan: CompletionPlan, format: Format, stream: Bool, includeUsage: Bool, context: ServerRequestContext
    ) async throws(OpenAIError) -> Response {
        let streams = try await plan.submit()
        let canceller = Canceller(streams)
        let watch = context.onDisconnect { canceller.cancel() }
        let promptTokens = plan.promptTokenCount
        guard stream else {
            defer { watch.remove() }
            let results = try await collect(streams)
            let usage = Usage(promptTokens: promptTokens, completionTokens: results.reduce(0) { $0 + $1.tokenIDs.count })
            return .json(format.response(results: results, usage: usage))
        }
        let body = ResponseBody { writer in
            var completed = false
            defer {
                watch.remove()
                if !completed { canceller.cancel() }
            }
            for chunk in format.openingChunks(choiceCount: streams.count) {
                try await writer.write(ByteBuffer(bytes: ServerSentEvents.event(chunk)))
            }
            var completionTokens = 0
            for await (choice, update) in mergedUpdates(streams) {
                let event: Data
                switch update {
                case let .delta(text, _, logprobs):
                    guard !text.isEmpty || !logprobs.isEmpty else { continue }
                    event = ServerSentEvents.event(format.deltaChunk(choice: choice, text: text, logprobs: logprobs))
                case let .finished(result):
                    completionTokens += result.tokenIDs.count
                    event = ServerSentEvents.event(format.finishChunk(choice: choice, result: result))
                case let .failed(error):
                    event = ServerSentEvents.event(OpenAIError.generation(error))
                }
                try await writer.write(ByteBuffer(bytes: event))
            }
            completed = true
            if includeUsage {
                let usage = Usage(promptTokens: promptTokens, completionTokens: completionTokens)
                try await writer.write(ByteBuffer(bytes: ServerSentEvents.event(format.usageChunk(usage))))
            }
            try await writer.write(ByteBuffer(bytes: ServerSentEvents.done))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    /// Every choice's result, in choice order; the first failure is thrown.
    static func collect(_ streams: [GenerationStream]) async throws(OpenAIError) -> [GenerationResult] {
        var results = [GenerationResult?](repeating: nil, count: streams.count)
        var failure: (any Error)?
        for await (choice, update) in mergedUpdates(streams) {
            switch update {
            case .delta: break
            case let .finished(result): results[choice] = result
            case let .failed(error): failure = failure ?? error
            }
        }
        if let failure { throw .generation(failure) }
        let finished = results.compactMap { $0 }
        guard finished.count == streams.count else {
            throw .unavailable("The request was cancelled before it finished.")
        }
        return finished
    }
}

/// Cancels a request's choices (when its client disconnects, or its stream stops early).
final class Canceller: Sendable {
    let streams: [GenerationStream]
    init(_ streams: [GenerationStream]) { self.streams = streams }
    func cancel() { for stream in streams { stream.cancel() } }
}

/// A fresh response id: `prefix` and 24 hex digits.
func responseID(_ prefix: String) -> String {
    prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
}
