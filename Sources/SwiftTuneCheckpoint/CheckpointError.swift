import SwiftTuneQuantization

/// Everything that can go wrong reading or writing checkpoints and model configs.
///
/// Each case carries where it happened (`path`: the file or directory; `key`: the tensor name or config key),
/// what was expected and what was found. `description` renders one line with a hint for the user.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file or directory could not be opened, read, mapped, written, synced or renamed.
    case io(path: String, operation: String, reason: String)
    /// The safetensors header is malformed: its length, its encoding, or the JSON itself. `field` names the part.
    case invalidHeader(path: String, field: String, reason: String)
    /// A tensor entry (or `__metadata__`) in a safetensors header has a missing or ill-typed field.
    case invalidEntry(path: String, key: String, field: String, expected: String, got: String)
    /// The dtype string of tensor `key` is not a safetensors dtype.
    case unknownDType(path: String, key: String, dtype: String)
    /// The tensor's safetensors dtype is valid but has no `DType` to load into.
    case unsupportedDType(path: String, key: String, dtype: String)
    /// Tensor `key` cannot be converted from `from` to `to` on load (only float ↔ float is supported).
    case unsupportedConversion(path: String, key: String, from: String, to: String)
    /// The byte length given by `data_offsets` does not match shape × dtype size.
    case sizeMismatch(path: String, key: String, shape: [Int], dtype: String, expectedBytes: String, gotBytes: Int)
    /// `data_offsets` point past the end of the data buffer.
    case offsetsOutOfRange(path: String, key: String, begin: Int, end: Int, bufferSize: Int)
    /// Tensor `key` starts inside the bytes of tensor `other`.
    case overlappingTensors(path: String, key: String, other: String, begin: Int, otherEnd: Int)
    /// Bytes `begin..<end` of the data buffer belong to no tensor (`after`/`before` name the neighbours).
    case bufferHole(path: String, begin: Int, end: Int, after: String?, before: String?)
    /// The same tensor name appears twice (in a header, or in the tensors given to a writer).
    case duplicateKey(path: String, key: String)
    /// Tensor `key` is in none of `searched` (file names) under `path`.
    case missingTensor(key: String, path: String, searched: [String])
    /// A sharded checkpoint's `model.safetensors.index.json` is malformed or disagrees with its shards.
    case invalidIndex(path: String, key: String, reason: String)
    /// A required config field is absent.
    case missingField(path: String, key: String, expected: String)
    /// A config field has the wrong JSON type.
    case wrongType(path: String, key: String, expected: String, got: String)
    /// A config field has the right type but an unusable value; `reason` reads after the quoted key.
    case invalidValue(path: String, key: String, reason: String)
    /// `model_type` names an architecture this decoder does not implement.
    case unsupportedModelType(path: String, got: String, supported: [String])
    /// A writer was called with arguments it cannot honour.
    case invalidArgument(operation: String, reason: String)
    /// A GGUF file breaks the format: `key` names the header field, metadata key or tensor.
    case invalidGGUF(path: String, key: String, expected: String, got: String)
    /// A GGUF file ends inside `key` (a header field, metadata key or tensor): `needed` bytes at byte `offset`.
    case truncatedGGUF(path: String, key: String, offset: Int, needed: Int, fileSize: Int)
    /// A count or length in a GGUF file (`key`: what it counts, e.g. "tensor_count") is `value`, above the reader's
    /// cap `limit` on `what` (checked before anything is allocated, so a hostile file cannot exhaust memory).
    case ggufLimitExceeded(path: String, key: String, what: String, value: UInt64, limit: Int)
    /// GGUF tensor `key` has a ggml type this library cannot dequantize.
    case unsupportedGGMLType(path: String, key: String, type: String, supported: [String])
    /// A bitsandbytes 4-bit weight (`*-bnb-4bit` layout) is incomplete or inconsistent: `key` names the tensor or
    /// quant-state field, `expected` vs `got` what it should hold.
    case invalidQuantState(path: String, key: String, expected: String, got: String, hint: String)

    public var description: String {
        let (message, hint) = parts
        return hint.isEmpty ? message : "\(message) (hint: \(hint))"
    }

    /// The message and the hint, separately.
    private var parts: (String, String) {
        switch self {
        case let .io(path, operation, reason):
            return ("\(path): \(operation) failed: \(reason)", "check that the path exists and is accessible")
        case let .invalidHeader(path, field, reason):
            return ("\(path): invalid safetensors \(field): \(reason)",
                    "the file is truncated or not a safetensors file; re-download or re-export it")
        case let .invalidEntry(path, key, field, expected, got):
            let place = field.isEmpty ? "entry \"\(key)\"" : "\"\(key)\".\(field)"
            return ("\(path): \(place): expected \(expected), got \(got)",
                    "each entry needs dtype, shape and data_offsets")
        case let .unknownDType(path, key, dtype):
            return ("\(path): tensor \"\(key)\" has unknown dtype \"\(dtype)\"",
                    "known dtypes: " + SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", "))
        case let .unsupportedDType(path, key, dtype):
            return ("\(path): tensor \"\(key)\" has dtype \(dtype), which cannot be loaded into a tensor",
                    "loadable dtypes: F32, F64, F16, BF16, I32, I64, U8; read the raw bytes with withBytes(_:_:)")
        case let .unsupportedConversion(path, key, from, to):
            return ("\(path): tensor \"\(key)\" cannot be converted from \(from) to \(to)",
                    "only conversions between float dtypes are supported")
        case let .sizeMismatch(path, key, shape, dtype, expectedBytes, gotBytes):
            return ("\(path): tensor \"\(key)\" (\(dtype) \(shape)) needs \(expectedBytes) bytes, "
                    + "but data_offsets span \(gotBytes)", "the header's shape, dtype or data_offsets is wrong")
        case let .offsetsOutOfRange(path, key, begin, end, bufferSize):
            return ("\(path): tensor \"\(key)\" data_offsets [\(begin), \(end)] exceed the \(bufferSize)-byte data buffer",
                    "the file is probably truncated")
        case let .overlappingTensors(path, key, other, begin, otherEnd):
            return ("\(path): tensor \"\(key)\" starts at \(begin), inside \"\(other)\" (which ends at \(otherEnd))",
                    "tensors must not share bytes")
        case let .bufferHole(path, begin, end, after, before):
            let left = after.map { "after \"\($0)\"" } ?? "at the start of the buffer"
            let right = before.map { "before \"\($0)\"" } ?? "at the end of the buffer"
            return ("\(path): data bytes [\(begin), \(end)) belong to no tensor (\(left), \(right))",
                    "the tensors' data_offsets must cover the data buffer without holes")
        case let .duplicateKey(path, key):
            return ("\(path): tensor \"\(key)\" appears more than once", "tensor names must be unique")
        case let .missingTensor(key, path, searched):
            return ("tensor \"\(key)\" not found in \(path) (searched \(searched.joined(separator: ", ")))",
                    "check the name against `names`; a model with tied embeddings has no lm_head.weight")
        case let .invalidIndex(path, key, reason):
            return ("\(path): \"\(key)\" \(reason)",
                    "the index and its shards disagree; re-download or re-export the checkpoint")
        case let .missingField(path, key, expected):
            return ("\(path): missing field \"\(key)\" (expected \(expected))",
                    "use the config.json that came with the Hugging Face checkpoint")
        case let .wrongType(path, key, expected, got):
            return ("\(path): \"\(key)\" must be \(expected), got \(got)", "fix the value or re-download the file")
        case let .invalidValue(path, key, reason):
            return ("\(path): \"\(key)\" \(reason)", "fix the value or re-download the file")
        case let .unsupportedModelType(path, got, supported):
            return ("\(path): unsupported \"model_type\" \"\(got)\"; supported: \(supported.joined(separator: ", "))",
                    "only Llama-family decoders are implemented")
        case let .invalidArgument(operation, reason):
            return ("\(operation): \(reason)", "")
        case let .invalidGGUF(path, key, expected, got):
            return ("\(path): GGUF \(key): expected \(expected), got \(got)",
                    "the file is corrupt or not a GGUF v2/v3 file; re-download or re-convert it")
        case let .truncatedGGUF(path, key, offset, needed, fileSize):
            return ("\(path): GGUF \(key): needs \(needed) bytes at byte \(offset), but the file has \(fileSize)",
                    "the file is truncated; re-download it")
        case let .ggufLimitExceeded(path, key, what, value, limit):
            return ("\(path): GGUF \(key): \(value) \(what) is more than the reader's limit of \(limit)",
                    "the file is corrupt; real models stay far below this limit")
        case let .invalidQuantState(path, key, expected, got, hint):
            return ("\(path): bitsandbytes 4-bit \"\(key)\": expected \(expected), got \(got)", hint)
        case let .unsupportedGGMLType(path, key, type, supported):
            return ("\(path): tensor \"\(key)\" has ggml type \(type), which cannot be dequantized; "
                    + "supported: \(supported.joined(separator: ", "))",
                    "re-quantize the model to one of the supported types (llama.cpp's llama-quantize)")
        }
    }
}
