import ArgumentParser
import Foundation
import SwiftTuneExport
import SwiftTuneHub
import SwiftTuneTokenizers

/// `swift-tune tokenize`: token ids of a text with a model's tokenizer (like llama.cpp's `llama-tokenize`).
public struct TokenizeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text with a model's tokenizer.",
        discussion: """
            --model is what infer takes: a model folder or a tokenizer.json file (tokenizer_config.json is read when \
            present), a GGUF file (its embedded vocabulary), a LoRA checkpoint (its run's base model) or a hub id. Prints the ids on one line, a JSON array with --json, or one "id -> 'piece'" \
            line per token with --verbose.
            """)

    @Option(name: .customLong("model"), help: "A model folder, a tokenizer.json file, a .gguf file, a LoRA checkpoint or a hub id ORG/NAME.")
    var model: String

    @OptionGroup var hub: HubFlags

    @Option(name: .customLong("text"), help: "The text to tokenize.")
    var text: String?

    @Option(name: .customLong("file"), help: "A UTF-8 file whose contents to tokenize (instead of --text).")
    var file: String?

    @Flag(name: .customLong("json"), help: "Print a JSON array of ids.")
    var json = false

    @Flag(name: .customLong("verbose"), help: "Print one line per token: id and its text.")
    var verbose = false

    @Option(name: [.customLong("add_special_tokens"), .customLong("add-special-tokens")],
            help: "Add the tokenizer's post-processor tokens (e.g. BOS): true or false.")
    var addSpecialTokens = true

    public init() {}

    public func validate() throws {
        if (text == nil) == (file == nil) { throw ValidationError("pass exactly one of --text and --file") }
        if json && verbose { throw ValidationError("--json and --verbose cannot be combined") }
    }

    /// The tokenizer: the path's own, or for a LoRA checkpoint without one, its base model's (from args.json).
    func loadTokenizer() async throws -> Tokenizer {
        var path = try await hub.resolveModel(model)
        let hasOwn = ["tokenizer.json"].contains { FileManager.default.fileExists(atPath: path.appendingPathComponent($0).path) }
        if !hasOwn, let base = try Exporter.baseModelSpec(checkpoint: path) {
            path = try await hub.resolveModel(base)
        }
        return try LocalModel.tokenizer(at: path)
    }

    public func run() async throws {
        let tokenizer = try await loadTokenizer()
        let input = try text ?? String(contentsOf: URL(fileURLWithPath: file ?? ""), encoding: .utf8)
        let ids = tokenizer.encode(input, addSpecialTokens: addSpecialTokens)
        if json {
            print("[" + ids.map(String.init).joined(separator: ",") + "]")
        } else if verbose {
            for id in ids {
                let piece = tokenizer.decode([id], skipSpecialTokens: false)
                print("\(String(repeating: " ", count: max(0, 6 - String(id).count)))\(id) -> '\(piece)'")
            }
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }
}
