import ArgumentParser
import Foundation
import SwiftTuneEngine
import SwiftTuneGeneration
import SwiftTuneServer
import SwiftTuneWebUI

/// The flags `web-ui` and `app` share.
struct WebUIFlags: ParsableArguments {
    @Option(name: flag("host"), help: "Address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface).")
    var host = "127.0.0.1"
    @Option(name: flag("port"), help: "Port (default 7860; 0 picks a free one).")
    var port = 7860
    @Option(name: flag("api_key"), help: "Require 'Authorization: Bearer KEY' on /api and /v1 requests (the page has a field for it).")
    var apiKey: String?
    @Option(name: flag("root_dir"), help: "The folder the page may read and write in: output folders, runs, reports (default: the working directory).")
    var rootDir: String?
    @Option(name: flag("max_batch_size"), help: "Chat requests decoded together (default 4).")
    var maxBatchSize = 4

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port): expected 0...65535") }
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api_key: expected a non-empty key") }
        if let rootDir {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: rootDir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--root_dir \(rootDir): expected an existing folder")
            }
        }
        guard maxBatchSize >= 1 else { throw ValidationError("--max_batch_size \(maxBatchSize): expected a positive integer") }
    }

    func configuration(chatOnly: Bool) -> WebUIConfiguration {
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        return WebUIConfiguration(host: host, port: port, apiKey: apiKey,
                                  rootDirectory: URL(fileURLWithPath: rootDir ?? FileManager.default.currentDirectoryPath),
                                  executable: executable, chatOnly: chatOnly)
    }

    /// Loads a chat model on the chosen backend, as `deploy` does.
    func loader(device: String?, template: String?, system: String?) -> @Sendable (String, String?) throws -> ServedModel {
        let batch = maxBatchSize
        return { model, adapters in
            var inference = InferenceOptions(model: model.isEmpty ? nil : URL(fileURLWithPath: model), adapter: adapters.map { URL(fileURLWithPath: $0) })
            inference.templateName = template
            inference.system = system
            inference.engine = EngineOptions(maxBatchSize: batch)
            return try ServedModel.load(ServeOptions(inference: inference), backend: try DeviceChoice.pick(device))
        }
    }

    func serve(_ configuration: WebUIConfiguration, engine: ServingEngine,
               loader: @escaping @Sendable (String, String?) throws -> ServedModel) async throws {
        let host = host
        try await WebUIServer.run(configuration: configuration, engine: engine, loadModel: loader, onServerRunning: { channel in
            print("web UI on http://\(host):\(channel.localAddress?.port ?? 0)/ (root: \(configuration.rootDirectory.path))")
        })
    }
}

/// `swift-tune web-ui`: train, chat, export and evaluate from a browser (ms-swift's `swift web-ui`).
struct WebUICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web-ui",
        abstract: "Serve a page to train, chat, export and evaluate from a browser.",
        discussion: """
            Example: swift-tune web-ui --port 7860, then open http://127.0.0.1:7860/
            Runs are child processes of the server (closing the browser never stops one); the page's forms are built \
            from the commands' own flags, and every action is a JSON endpoint under /api (see the README).
            """)

    @OptionGroup var web: WebUIFlags
    @Option(name: flag("device"), help: "cpu or cuda for the Chat tab's model (default: cuda when a GPU is found).")
    var device: String?

    func run() async throws {
        try await web.serve(web.configuration(chatOnly: false), engine: ServingEngine(),
                            loader: web.loader(device: device, template: nil, system: nil))
    }
}

/// `swift-tune app --model M [--adapters CKPT]`: the Chat tab alone (ms-swift's `swift app`).
struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: "Serve a chat page for one model (the web UI's Chat tab alone).",
        discussion: "Example: swift-tune app --model Qwen/Qwen2.5-0.5B-Instruct --adapters output/v0-…/checkpoint-40")

    @OptionGroup var model: ModelOptions
    @OptionGroup var hub: HubFlags
    @OptionGroup var web: WebUIFlags
    @Option(name: flag("adapters"), help: "A LoRA checkpoint folder (its run's args.json may name --model).")
    var adapters: String?

    func validate() throws {
        if model.model == nil, adapters == nil { throw ValidationError("give --model (or --adapters CKPT) to chat with") }
    }

    func run() async throws {
        let loader = web.loader(device: model.device, template: model.template, system: model.system)
        var resolved: String?
        if let spec = model.model { resolved = try await hub.resolveModel(spec).path }
        let engine = ServingEngine()
        let served = try loader(resolved ?? "", adapters)
        engine.ready(served)
        try await web.serve(web.configuration(chatOnly: true), engine: engine, loader: loader)
    }
}
