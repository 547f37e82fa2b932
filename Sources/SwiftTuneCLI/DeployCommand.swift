import ArgumentParser
import Foundation
import SwiftTuneEngine
import SwiftTuneGeneration
import SwiftTuneServer

/// `swift-tune deploy`: an OpenAI-compatible server (chat and text completions, streaming, API key, several LoRA
/// adapters, continuous batching) with ms-swift's flags.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Serve a model over an OpenAI-compatible HTTP API, with continuous batching.",
        discussion: """
            Example: swift-tune deploy --model Qwen/Qwen2.5-0.5B-Instruct --adapters sql=out/v0/checkpoint-40 --port 8000
            Endpoints: GET /health, GET /v1/models, POST /v1/chat/completions, POST /v1/completions (stream: true for \
            server-sent events). A request's "model" picks the base model (--served_model_name) or a named adapter. \
            SIGTERM or Ctrl-C stops taking requests, lets those in flight finish (10 s at most) and exits.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var hub: HubFlags

    @Option(name: flag("adapters"), parsing: .upToNextOption,
            help: "LoRA adapters: NAME=PATH (requests pick it with \"model\": NAME), or one PATH applied to every request (its run's args.json may name --model).")
    var adapters: [String] = []
    @Option(name: flag("host"), help: "Address to listen on (default 0.0.0.0).")
    var host = "0.0.0.0"
    @Option(name: flag("port"), help: "Port (default 8000).")
    var port = 8000
    @Option(name: flag("api_key"), help: "Require 'Authorization: Bearer KEY' on /v1 requests (401 otherwise).")
    var apiKey: String?
    @Option(name: flag("served_model_name"), help: "The model name clients send (default: the model's folder or file name).")
    var servedModelName: String?
    @Option(name: flag("max_batch_size"), help: "Requests decoded together at most (default 16).")
    var maxBatchSize = 16
    @Option(name: flag("max_model_len"), help: "Tokens per request, prompt and answer (default: the model's max_position_embeddings).")
    var maxModelLen: Int?
    @Option(name: flag("kv_cache_tokens"), help: "Tokens the KV cache holds in all (default: max_batch_size × max_model_len, room for every request's whole answer); a smaller cache admits requests while their prompts fit and preempts the newest when answers outgrow it (recomputed later, same tokens).")
    var kvCacheTokens: Int?
    @Option(name: flag("max_queue_size"), help: "Requests waiting for a place in the batch at most; more get 429 (default 256).")
    var maxQueueSize = 256
    @Option(name: flag("log_interval"), help: "Seconds between throughput log lines; 0 turns them off (default 20).")
    var logInterval = 20.0
    @Option(name: flag("enable_prefix_caching"), help: "Reuse the KV cache blocks of prompt prefixes requests share (system prompts, earlier turns): true or false (default true, as vLLM).")
    var enablePrefixCaching = true

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port): expected 0...65535") }
        guard maxBatchSize >= 1 else { throw ValidationError("--max_batch_size \(maxBatchSize): expected a positive integer") }
        if let maxModelLen, maxModelLen < 2 { throw ValidationError("--max_model_len \(maxModelLen): expected at least 2") }
        if let kvCacheTokens, kvCacheTokens < 2 { throw ValidationError("--kv_cache_tokens \(kvCacheTokens): expected at least 2") }
        guard maxQueueSize >= 0 else { throw ValidationError("--max_queue_size \(maxQueueSize): expected 0 or more") }
        guard logInterval >= 0, logInterval.isFinite else { throw ValidationError("--log_interval \(logInterval): expected seconds ≥ 0") }
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api_key: expected a non-empty key") }
        _ = try parsedAdapters()
    }

    func run() async throws {
        var inference = InferenceOptions()
        if let spec = model.model { inference.model = try await hub.resolveModel(spec) }
        (inference.adapter, inference.namedAdapters) = try parsedAdapters()
        inference.templateName = model.template
        inference.system = model.system
        inference.engine = EngineOptions(maxBatchSize: maxBatchSize, maxModelLength: maxModelLen, cacheTokens: kvCacheTokens,
                                         prefixCaching: enablePrefixCaching)
        let serve = ServeOptions(inference: inference, servedModelName: servedModelName,
                                 scheduler: SchedulerOptions(queueLimit: maxQueueSize))
        let backend = try model.backend()
        let configuration = ServerConfiguration(host: host, port: port, apiKey: apiKey, logInterval: logInterval,
                                                verbose: model.verbose)
        try await DeployServer.run(configuration: configuration, onServerRunning: { [host] channel in
            print("listening on http://\(host):\(channel.localAddress?.port ?? 0)")
        }, load: {
            try ServedModel.load(serve, backend: backend) { print($0) }
        })
    }

    /// `--adapters`: NAME=PATH pairs, and at most one bare PATH (applied to every request).
    func parsedAdapters() throws -> (URL?, [String: URL]) {
        var shared: URL?
        var named: [String: URL] = [:]
        for entry in adapters {
            if let equals = entry.firstIndex(of: "="), !FileManager.default.fileExists(atPath: entry) {
                let name = String(entry[..<equals]), path = String(entry[entry.index(after: equals)...])
                guard !name.isEmpty, !path.isEmpty else { throw ValidationError("--adapters \(entry): expected NAME=PATH") }
                guard named[name] == nil else { throw ValidationError("--adapters: the name \(name) is given twice") }
                named[name] = URL(fileURLWithPath: path)
            } else {
                guard shared == nil else {
                    throw ValidationError("--adapters: one adapter without a name at most (name the others: NAME=PATH)")
                }
                shared = URL(fileURLWithPath: entry)
            }
        }
        return (shared, named)
    }
}
