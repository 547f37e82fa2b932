import Foundation
import SwiftTuneCheckpoint
import SwiftTuneHub
import SwiftTuneModels
import SwiftTuneTensor
import SwiftTuneTokenizers

/// The base model of an export, read one tensor at a time from its memory-mapped files: an HF folder
/// (safetensors, any float dtype) or a GGUF file (dequantized, q/k rows back in HF order). Nothing is loaded
/// until `floats` asks for a tensor, so exporting a 7B model never holds more than one of its tensors.
final class ExportBase: @unchecked Sendable {
    enum Format: Equatable { case huggingFace, gguf }

    let url: URL
    let format: Format
    let config: DecoderConfig
    /// A display name: GGUF's `general.name`, else the folder or file name.
    let name: String
    /// The GGUF's tokenizer (GGUF bases only).
    let vocabulary: GGMLVocabulary?

    private let safetensors: ModelWeights?
    private let gguf: GGUFWeights?

    init(url: URL) throws {
        self.url = url
        // A folder with config.json is an HF model even without tokenizer files (merging needs only the weights).
        let hasConfig = FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path)
        switch hasConfig ? .huggingFaceFolder(url) : try LocalModel.resolve(path: url) {
        case let .huggingFaceFolder(folder):
            format = .huggingFace
            config = try DecoderConfig.load(from: folder.appendingPathComponent("config.json"))
            safetensors = try ModelWeights(directory: folder)
            gguf = nil
            vocabulary = nil
            name = folder.lastPathComponent
        case let .gguf(file):
            format = .gguf
            let weights = try GGUFWeights(url: file)
            config = weights.config
            gguf = weights
            safetensors = nil
            vocabulary = try GGMLVocabulary(gguf: weights.file)
            name = try weights.file.string("general.name") ?? file.deletingPathExtension().lastPathComponent
        }
    }

    /// The folder holding the model's files (the GGUF's folder for a GGUF).
    var folder: URL { format == .gguf ? url.deletingLastPathComponent() : url }

    /// The dtype tensor `name` is stored in: the safetensors dtype for float tensors, f32 for GGUF (dequantized).
    func storageDType(_ name: String) throws -> DType {
        guard let safetensors else { return .f32 }
        let dtype = try safetensors.info(name).dtype.tensorDType
        return dtype.map { $0.isFloatingPoint && $0 != .f64 ? $0 : .f32 } ?? .f32
    }

    /// The values of HF key `name` as f32, row-major in HF's shape and row order.
    func floats(_ name: String) throws -> [Float] {
        if let gguf { return try gguf.floats(name) }
        guard let safetensors else { return [] }
        let info = try safetensors.info(name)
        let count = info.shape.reduce(1, *)
        guard let dtype = info.dtype.tensorDType, dtype.isFloatingPoint else {
            throw CheckpointError.unsupportedConversion(path: safetensors.directory.path, key: name, from: info.dtype.rawValue,
                                                        to: "F32")
        }
        return try safetensors.withBytes(name) { bytes in
            [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count {
                    switch dtype {
                    case .f32: buffer[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    case .bf16: buffer[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                    case .f16: buffer[i] = Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                    case .f64: buffer[i] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                    default: buffer[i] = 0
                    }
                }
                initialized = count
            }
        }
    }

    /// Whether the checkpoint holds `name` (a tied model's safetensors may lack lm_head.weight).
    func contains(_ name: String) -> Bool {
        safetensors?.contains(name) ?? gguf?.contains(name) ?? false
    }
}
