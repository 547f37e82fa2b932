import ArgumentParser
import Foundation
import SwiftTuneTokenizers

/// `swift-tune tokenize`: token ids of a text with a model's tokenizer (like llama.cpp's `llama-tokenize`).
public struct TokenizeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text with a model's tokenizer.",
        discussion: """
            --model is a folder with tokenizer.json (tokenizer_config.json is read when present) or a \
            tokenizer.json file. Prints the ids on one line, a JSON array with --json, or one "id -> 'piece'" \
            line per token with --verbose.
            """)

    @Option(name: .customLong("model"), help: "A model folder with tokenizer.json, or a tokenizer.json file.")
    var model: String

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
        if model.lowercased().hasSuffix(".gguf") {
            throw ValidationError("GGUF tokenizers are not supported yet; pass the folder of the HF model (tokenizer.json)")
        }
    }

    public func run() throws {
        let tokenizer = try Tokenizer(contentsOf: URL(fileURLWithPath: model))
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
