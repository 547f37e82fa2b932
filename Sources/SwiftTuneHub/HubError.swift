/// Why a model could not be found or assembled from its files: what, where, and a hint.
public enum HubError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Nothing exists at `path`.
    case notFound(path: String)
    /// A model folder lacks files it needs (`missing`); `found` lists what is there.
    case incompleteModelFolder(path: String, missing: [String], found: [String])
    /// A folder holds several GGUF files and none was named.
    case ambiguousGGUF(path: String, files: [String])
    /// The file is neither a GGUF file nor part of a model folder.
    case unrecognizedFile(path: String, reason: String)
    /// A GGUF file has no tokenizer (`tokenizer.ggml.*`), so no text can be encoded.
    case missingTokenizer(path: String, key: String)

    public var description: String {
        switch self {
        case let .notFound(path):
            return "\(path): no such file or folder (hint: pass a Hugging Face model folder with config.json, "
                + "*.safetensors and tokenizer.json, or a .gguf file)"
        case let .incompleteModelFolder(path, missing, found):
            let contents = found.isEmpty ? "it is empty" : "it holds " + found.prefix(12).joined(separator: ", ")
                + (found.count > 12 ? ", …" : "")
            return "\(path): not a complete model folder: missing \(missing.joined(separator: ", ")); \(contents) "
                + "(hint: download the whole model repository, or pass a .gguf file)"
        case let .ambiguousGGUF(path, files):
            return "\(path): holds several GGUF files (\(files.joined(separator: ", "))) (hint: pass the one to load)"
        case let .unrecognizedFile(path, reason):
            return "\(path): \(reason) (hint: pass a model folder or a .gguf file)"
        case let .missingTokenizer(path, key):
            return "\(path): the GGUF file has no tokenizer (no \"\(key)\") (hint: use a GGUF converted with its "
                + "tokenizer, as llama.cpp's convert_hf_to_gguf.py writes them)"
        }
    }
}
