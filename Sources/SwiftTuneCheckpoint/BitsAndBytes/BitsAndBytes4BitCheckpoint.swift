import SwiftTuneJSON
import SwiftTuneQuantization

/// A pre-quantized bitsandbytes 4-bit linear weight as `*-bnb-4bit` checkpoints store it (transformers saves
/// `Linear4bit`'s state dict, `QuantState.as_dict(packed=True)`), read into a `BitsAndBytes4Bit`.
///
/// For a weight key `W` (`model.layers.0.mlp.down_proj.weight`): `W` u8 `[(n + 1) / 2, 1]` packed codes;
/// `W.quant_state.bitsandbytes__nf4` (or `__fp4`) u8, the bytes of a JSON object (`quant_type`, `blocksize`,
/// `dtype`, `shape`, and with double quantization `nested_blocksize`, `nested_dtype`, `nested_offset`);
/// `W.absmax` f32 `[blocks]`, or u8 `[blocks]` with double quantization; `W.quant_map` f32 `[16]`; with double
/// quantization `W.nested_absmax` f32 `[ceil(blocks / 256)]` and `W.nested_quant_map` f32 `[256]`.
public struct BitsAndBytes4BitCheckpointWeight: Sendable, Equatable {
    /// The packed codes and their (nested) absmax.
    public var weight: BitsAndBytes4Bit
    /// The dtype the weight had before quantization and dequantizes to (`dtype` in the quant state: `bfloat16`).
    public var dtype: String
}

extension SafetensorsFile {
    /// The quant-state keys bitsandbytes writes, one per 4-bit type.
    public static func bitsAndBytesQuantStateKey(_ weightKey: String, _ type: FourBitQuantType) -> String {
        "\(weightKey).quant_state.bitsandbytes__\(type.rawValue)"
    }

    /// Whether `weightKey` is stored as a bitsandbytes 4-bit weight (its quant-state blob is present).
    public func isBitsAndBytes4Bit(_ weightKey: String) -> Bool {
        FourBitQuantType.allCases.contains { contains(Self.bitsAndBytesQuantStateKey(weightKey, $0)) }
    }

    /// Reads the bitsandbytes 4-bit weight `weightKey` (see `BitsAndBytes4BitCheckpointWeight` for the layout),
    /// checking every tensor's dtype and shape against the quant state.
    ///
    /// - Throws: `CheckpointError.missingTensor` for an absent tensor, `.invalidQuantState` (file, key, expected vs
    ///   got, hint) for a malformed quant state or a tensor of the wrong dtype or size.
    public func bitsAndBytes4Bit(_ weightKey: String) throws(CheckpointError) -> BitsAndBytes4BitCheckpointWeight {
        guard let type = FourBitQuantType.allCases.first(where: { contains(Self.bitsAndBytesQuantStateKey(weightKey, $0)) })
        else {
            throw .missingTensor(key: "\(weightKey).quant_state.bitsandbytes__nf4 (or __fp4)", path: path,
                                 searched: [url.lastPathComponent])
        }
        let stateKey = Self.bitsAndBytesQuantStateKey(weightKey, type)
        let state = try quantState(stateKey, type)
        let n = state.shape.reduce(1, *)
        let blocks = (n + state.blockSize - 1) / state.blockSize

        let packed = try bytes(weightKey, .u8, count: (n + 1) / 2, "\((n + 1) / 2) packed bytes (shape \(state.shape))")
        let quantMap = try floats("\(weightKey).quant_map", count: 16, "the 16 \(type) code values")
        if quantMap != type.codes {  // by value: bitsandbytes stores FP4's code 8 as +0, its decoders give -0
            throw invalid("\(weightKey).quant_map", expected: "bitsandbytes' \(type) table \(type.codes)",
                          got: "\(quantMap)", hint: "a custom 4-bit code table is not supported")
        }
        let absmax: BitsAndBytes4Bit.Absmax
        if let nested = state.nested {
            let codes = try bytes("\(weightKey).absmax", .u8, count: blocks,
                                  "\(blocks) u8 absmax codes (double quantization)")
            let scaleCount = (blocks + nested.blockSize - 1) / nested.blockSize
            let scales = try floats("\(weightKey).nested_absmax", count: scaleCount,
                                    "\(scaleCount) f32 scales (one per \(nested.blockSize) blocks)")
            let map = try floats("\(weightKey).nested_quant_map", count: 256, "the 256-value 8-bit map")
            absmax = .nested(.init(codes: codes, scales: scales, map: map, offset: nested.offset,
                                   blockSize: nested.blockSize))
        } else {
            absmax = .plain(try floats("\(weightKey).absmax", count: blocks, "\(blocks) f32 absmax values"))
        }
        do {
            let weight = try BitsAndBytes4Bit(quantType: type, shape: state.shape, blockSize: state.blockSize,
                                              packed: packed, absmax: absmax)
            return BitsAndBytes4BitCheckpointWeight(weight: weight, dtype: state.dtype)
        } catch {
            throw invalid(weightKey, expected: "consistent sizes", got: error.description, hint: "")
        }
    }

    private struct QuantState {
        var shape: [Int]
        var blockSize: Int
        var dtype: String
        var nested: (blockSize: Int, offset: Float)?
    }

    /// Parses the JSON blob of `key`.
    private func quantState(_ key: String, _ type: FourBitQuantType) throws(CheckpointError) -> QuantState {
        let hint = "the quant state bitsandbytes' QuantState.as_dict(packed=True) writes; re-export the checkpoint"
        let json: JSONValue
        do {
            json = try withBytes(key) { try JSONParser.parse($0) }
        } catch {
            throw invalid(key, expected: "a JSON object", got: "\(error)", hint: hint)
        }
        func field(_ name: String) throws(CheckpointError) -> JSONValue {
            guard let value = json[name] else {
                throw invalid("\(key).\(name)", expected: "a field", got: "nothing", hint: hint)
            }
            return value
        }
        func integer(_ name: String) throws(CheckpointError) -> Int {
            let value = try field(name)
            guard let number = value.integralValue, number > 0 else {
                throw invalid("\(key).\(name)", expected: "a positive integer", got: value.typeDescription, hint: hint)
            }
            return number
        }
        let quantType = try field("quant_type")
        guard quantType.stringValue == type.rawValue else {
            throw invalid("\(key).quant_type", expected: "\"\(type)\" (the key's suffix)",
                          got: quantType.stringValue.map { "\"\($0)\"" } ?? quantType.typeDescription, hint: hint)
        }
        let shapeValue = try field("shape")
        guard let items = shapeValue.arrayValue, let shape = Optional(items.compactMap(\.integralValue)),
              shape.count == items.count, !shape.isEmpty, shape.allSatisfy({ $0 >= 0 }) else {
            throw invalid("\(key).shape", expected: "an array of sizes", got: shapeValue.typeDescription, hint: hint)
        }
        let dtypeValue = try field("dtype")
        guard let dtype = dtypeValue.stringValue else {
            throw invalid("\(key).dtype", expected: "a string", got: dtypeValue.typeDescription, hint: hint)
        }
        var state = QuantState(shape: shape, blockSize: try integer("blocksize"), dtype: dtype, nested: nil)
        if json["nested_blocksize"] != nil || json["nested_offset"] != nil {
            let offsetValue = try field("nested_offset")
            guard let offset = offsetValue.doubleValue else {
                throw invalid("\(key).nested_offset", expected: "a number", got: offsetValue.typeDescription, hint: hint)
            }
            if let nestedDType = json["nested_dtype"], nestedDType.stringValue != "float32" {
                throw invalid("\(key).nested_dtype", expected: "\"float32\"",
                              got: nestedDType.stringValue ?? nestedDType.typeDescription, hint: hint)
            }
            state.nested = (try integer("nested_blocksize"), Float(offset))
        }
        return state
    }

    private func bytes(_ key: String, _ dtype: SafetensorsDType, count: Int,
                       _ expected: String) throws(CheckpointError) -> [UInt8] {
        let entry = try info(key)
        guard entry.dtype == dtype, entry.elementCount == count else {
            throw invalid(key, expected: "\(dtype) with \(expected)", got: "\(entry.dtype) \(entry.shape)",
                          hint: "the tensor does not match its quant state; the checkpoint is damaged or not bitsandbytes'")
        }
        do {
            return try withBytes(key) { Array($0) }
        } catch {
            throw invalid(key, expected: expected, got: "\(error)", hint: "")
        }
    }

    private func floats(_ key: String, count: Int, _ expected: String) throws(CheckpointError) -> [Float] {
        let raw = try bytes(key, .f32, count: count, expected)
        return raw.withUnsafeBytes { buffer in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    private func invalid(_ key: String, expected: String, got: String, hint: String) -> CheckpointError {
        .invalidQuantState(path: path, key: key, expected: expected, got: got, hint: hint)
    }
}
