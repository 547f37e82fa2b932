import ArgumentParser
import Foundation
import SwiftTuneData
import SwiftTuneHub

/// `swift-tune download`: fetch a model or dataset into the HF or ModelScope cache (or find it there) and print
/// its local path, with a progress line on stderr.
public struct DownloadCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download a model or dataset from ModelScope or the HF hub into its cache and print the local path.",
        discussion: """
            Example: swift-tune download --model Qwen/Qwen2.5-0.5B-Instruct --use_hf true
            Files go where the hub's own client puts them (HF_HOME / HF_HUB_CACHE, MODELSCOPE_CACHE), so later \
            --model ORG/NAME runs, transformers and modelscope find them. Interrupted downloads resume.
            """)

    @Option(name: flag("model"), help: "A model id ORG/NAME.")
    var model: String?

    @Option(name: flag("dataset"), help: "A dataset id [hf::|ms::]ORG/NAME.")
    var dataset: String?

    @Option(name: flag("use_hf"), help: "Download from the HF hub instead of ModelScope: true or false (default: USE_HF).")
    var useHF: Bool?

    @Option(name: flag("revision"), help: "Branch, tag or commit (default: main on HF, master on ModelScope).")
    var revision: String?

    @Option(name: flag("hub_token"), help: "Access token (default: HF_TOKEN or MODELSCOPE_API_TOKEN).")
    var hubToken: String?

    @Option(name: flag("gguf_file"), help: "Fetch only this GGUF file of the model repository.")
    var ggufFile: String?

    @Option(name: flag("allow_patterns"), parsing: .upToNextOption,
            help: "Model files to fetch, as globs (default: config, tokenizer and safetensors files).")
    var allowPatterns: [String] = []

    public init() {}

    public func validate() throws {
        if (model == nil) == (dataset == nil) { throw ValidationError("pass exactly one of --model and --dataset") }
        if dataset != nil, ggufFile != nil || !allowPatterns.isEmpty {
            throw ValidationError("--gguf_file and --allow_patterns apply to --model only")
        }
    }

    public func run() async throws {
        var options = HubOptions()
        if let useHF { options.useHF = useHF }
        options.revision = revision
        options.token = hubToken
        options.ggufFile = ggufFile
        options.allowPatterns = allowPatterns.isEmpty ? nil : allowPatterns
        let line = ProgressLine()
        options.progress = { line.show($0) }
        let url: URL
        if let model {
            url = try await HubResolver.resolveModel(model, options: options)
        } else {
            let spec = try DatasetSpec.parse(dataset ?? "")
            switch spec.source {
            case .path(let path): url = URL(fileURLWithPath: path)
            case .hub(let id, let hubChoice): url = try await HubResolver.resolveDataset(id, useHF: hubChoice, options: options)
            }
        }
        line.finish()
        print(url.path)
    }

    /// One stderr line, redrawn at most ten times a second and when a file finishes.
    final class ProgressLine: @unchecked Sendable {
        private let lock = NSLock()
        private var lastDraw = Date.distantPast
        private var lastFilesDone = 0
        private var drawn = false

        func show(_ p: HubProgress) {
            lock.withLock {
                let now = Date()
                guard p.filesDone != lastFilesDone || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
                lastDraw = now
                lastFilesDone = p.filesDone
                drawn = true
                let mb = { (bytes: Int64) in String(format: "%.1f", Double(bytes) / 1_000_000) }
                let text = "\r[download] \(Int(p.fraction * 100))% \(mb(p.bytes))/\(mb(p.total)) MB, "
                    + "\(p.filesDone)/\(p.fileCount) files, \(p.file)\u{1B}[K"
                FileHandle.standardError.write(Data(text.utf8))
            }
        }

        func finish() {
            lock.withLock { if drawn { FileHandle.standardError.write(Data("\n".utf8)) } }
        }
    }
}
