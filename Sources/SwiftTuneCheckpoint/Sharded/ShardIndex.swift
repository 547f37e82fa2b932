import Foundation
import SwiftTuneJSON

/// `model.safetensors.index.json`: which shard holds each tensor.
///
/// Format (written by `transformers` `save_pretrained`): `{"metadata": {"total_size": bytes}, "weight_map": {name: file}}`.
struct ShardIndex {
    static let fileName = "model.safetensors.index.json"

    /// Tensor name → shard file name.
    let weightMap: [String: String]
    /// `metadata.total_size`, the summed byte size of all tensors, when present.
    let totalSize: Int?

    init(weightMap: [String: String], totalSize: Int?) {
        self.weightMap = weightMap
        self.totalSize = totalSize
    }

    /// Parses and checks an index file's contents; `path` goes into error messages.
    init(json data: Data, path: String) throws(CheckpointError) {
        let root = try ConfigObject.root(data, path: path)
        guard let map = try root.object("weight_map") else {
            throw .missingField(path: path, key: "weight_map", expected: "an object mapping tensor names to shard files")
        }
        var weightMap: [String: String] = [:]
        for member in map.members {
            guard case let .string(file) = member.value else {
                throw .wrongType(path: path, key: "weight_map.\(member.key)", expected: "a shard file name", got: member.value.summary)
            }
            guard !file.isEmpty, !file.contains("/"), file != ".", file != ".." else {
                throw .invalidIndex(path: path, key: member.key,
                                    reason: "is mapped to \"\(file)\", which is not a file name in the checkpoint directory")
            }
            guard weightMap.updateValue(file, forKey: member.key) == nil else {
                throw .duplicateKey(path: path, key: member.key)
            }
        }
        self.weightMap = weightMap
        totalSize = try root.object("metadata")?.int("total_size")
    }

    /// The index as `transformers` writes it: `json.dumps(index, indent=2, sort_keys=True)` plus a newline.
    func encoded() -> [UInt8] {
        var text = "{\n  \"metadata\": {\n    \"total_size\": \(totalSize ?? 0)\n  },\n  \"weight_map\": {"
        let names = weightMap.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        text += names.map { "\n    \(JSONText.quoted($0, asciiOnly: true)): \(JSONText.quoted(weightMap[$0] ?? "", asciiOnly: true))" }.joined(separator: ",")
        text += names.isEmpty ? "}\n}\n" : "\n  }\n}\n"
        return Array(text.utf8)
    }
}
