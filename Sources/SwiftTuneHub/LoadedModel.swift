import Foundation
import SwiftTuneModels
import SwiftTuneTokenizers

/// A model ready to run: the decoder, its tokenizer and chat template, and where it came from.
public struct LoadedModel: Sendable {
    /// The file format the model was read from.
    public enum Format: String, Sendable, Equatable {
        /// A Hugging Face folder: config.json, safetensors weights, tokenizer.json.
        case huggingFace
        /// A llama.cpp GGUF file (weights dequantized to f32).
        case gguf
    }

    public let model: DecoderModel
    public let tokenizer: Tokenizer
    /// The Jinja chat template (tokenizer_config.json's `chat_template` or GGUF's `tokenizer.chat_template`).
    public let chatTemplate: String?
    /// A display name: GGUF's `general.name`, else the folder or file name.
    public let name: String
    /// The folder or file that was loaded.
    public let source: URL
    public let format: Format

    public init(model: DecoderModel, tokenizer: Tokenizer, chatTemplate: String?, name: String, source: URL, format: Format) {
        self.model = model
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.name = name
        self.source = source
        self.format = format
    }
}
