import Foundation
import SwiftTuneJSON

/// A run's `args.json`, the one type that reads and writes it: `sft`/`pt` write every resolved argument into the
/// run folder and each checkpoint; `infer`, `deploy` and `export` read the base model, template and system from it
/// (ms-swift's `load_args_from_ckpt`); `export` writes the checkpoint's arguments with its own on top.
///
/// Every member is kept in file order, unknown keys included, so a file written by ms-swift itself reads and
/// writes back unchanged. The keys swift-tune reads are typed: reading a file checks them and names the file and
/// key when one has the wrong type. Written as Python's `json.dumps(indent=2)` writes it, plus a newline.
public struct RunArguments: Sendable, Equatable {
    public static let fileName = "args.json"

    /// The keys swift-tune reads, with the JSON type each must have (`null` is always allowed: Python's `None`).
    enum Kind { case string, strings }
    static let typedKeys: [(key: String, kind: Kind)] = [
        ("model", .string), ("model_type", .string), ("template", .string), ("system", .string),
        ("torch_dtype", .string), ("train_type", .string), ("output_dir", .string),
        ("model_name", .strings), ("model_author", .strings), ("adapters", .strings),
    ]

    /// The file this was read from, or the one it is for.
    public var file: URL
    /// Every member in order.
    public private(set) var members: [JSONMember]

    /// Arguments built in code, for `file`.
    public init(file: URL, members: [JSONMember] = []) throws(RunFileError) {
        self.file = file
        self.members = []
        for member in members { try set(member.key, member.value) }
    }

    /// The members of an `Encodable` (e.g. `TrainingArguments`) under snake_case keys, sorted; nil optionals are
    /// left out.
    public init(file: URL, encoding value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let object = try RunFileObject(json: try encoder.encode(value), path: file.path, hint: "an encoding error")
        try self.init(file: file, members: object.members)
    }

    /// Reads one `args.json`, checking the typed keys.
    public init(contentsOf url: URL) throws(RunFileError) {
        let object = try RunFileObject(contentsOf: url, hint: "it is written by swift-tune sft / ms-swift; pass --model instead")
        file = url
        members = object.members
        for (key, kind) in Self.typedKeys {
            switch kind {
            case .string: _ = try object.string(key)
            case .strings: _ = try object.strings(key)
            }
        }
    }

    /// `folder/args.json`; nil when there is none.
    public static func read(in folder: URL) throws(RunFileError) -> RunArguments? {
        let url = folder.appendingPathComponent(fileName)
        return FileManager.default.fileExists(atPath: url.path) ? try RunArguments(contentsOf: url) : nil
    }

    /// Reads `checkpoint/args.json`, else `checkpoint/../args.json`; nil when neither exists.
    public static func find(near checkpoint: URL) throws(RunFileError) -> RunArguments? {
        for folder in [checkpoint, checkpoint.deletingLastPathComponent()] {
            if let arguments = try read(in: folder) { return arguments }
        }
        return nil
    }

    // MARK: Members

    /// The value of `key`, if present (null included).
    public subscript(key: String) -> JSONValue? { JSONValue.object(members)[key] }

    /// Sets `key`: in its place when present, else appended; with `movingToEnd`, an existing member moves to the
    /// end (an export's own arguments after the run's). A typed key must get its type (or null).
    public mutating func set(_ key: String, _ value: JSONValue, movingToEnd: Bool = false) throws(RunFileError) {
        if let kind = Self.typedKeys.first(where: { $0.key == key })?.kind {
            let probe = RunFileObject(members: [JSONMember(key: key, value: value)], path: file.path)
            switch kind {
            case .string: _ = try probe.string(key)
            case .strings: _ = try probe.strings(key)
            }
        }
        if !movingToEnd, let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = value
        } else {
            members.removeAll { $0.key == key }
            members.append(JSONMember(key: key, value: value))
        }
    }

    /// Orders the members by key, as a file written with `sort_keys=True`.
    public mutating func sortKeys() {
        members.sort { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }
    }

    // MARK: Typed keys (checked when read or set, so these never see the wrong type)

    private var object: RunFileObject { RunFileObject(members: members, path: file.path) }

    private func string(_ key: String) -> String? {
        guard let text = try? object.string(key), !text.isEmpty else { return nil }
        return text
    }

    /// `model`: the base model the run trained (a folder or `.gguf` path as given to `sft`, or a hub id).
    public var model: String? { string("model") }
    /// `template`: the template name the run resolved.
    public var template: String? { string("template") }
    /// `system`: the run's `--system`, if any.
    public var system: String? { string("system") }
    /// `torch_dtype`.
    public var torchDtype: String? { string("torch_dtype") }
    /// `train_type`: `lora` or `full`.
    public var trainType: String? { string("train_type") }
    /// `quant_bits`: 4 for a run over a bitsandbytes 4-bit base (QLoRA), else nil.
    public var quantBits: Int? { self["quant_bits"]?.intValue }
    /// `bnb_4bit_quant_type` (`nf4` or `fp4`) of a 4-bit run.
    public var bnb4BitQuantType: String? { string("bnb_4bit_quant_type") }
    /// `bnb_4bit_use_double_quant` of a 4-bit run.
    public var bnb4BitUseDoubleQuant: Bool? { self["bnb_4bit_use_double_quant"]?.boolValue }
    /// `output_dir`: the run folder (where `val_dataset.jsonl` is).
    public var outputDirectory: String? { string("output_dir") }
    /// `model_name`, `model_author` (self-cognition).
    public var modelName: [String]? { try? object.strings("model_name") }
    public var modelAuthor: [String]? { try? object.strings("model_author") }
    /// `adapters`: the adapter folders the run started from (or an export merged).
    public var adapters: [String] { (try? object.strings("adapters")) ?? [] }

    // MARK: The run folder

    /// The run folder: `output_dir` when it exists, else the folder of `args.json`, or its parent for a
    /// `checkpoint-N` folder.
    public var runFolder: URL {
        if let outputDirectory, FileManager.default.fileExists(atPath: outputDirectory) {
            return URL(fileURLWithPath: outputDirectory)
        }
        return RunFolder.enclosing(file.deletingLastPathComponent())
    }

    /// The run's validation rows (`val_dataset.jsonl`, written when the run split its data).
    public var validationFile: URL { runFolder.appendingPathComponent(RunFolder.validationFileName) }

    /// The base model: `model` as written (an HF folder or a GGUF file; absolute, or relative to the current folder).
    public func modelFolder() throws(RunFileError) -> URL {
        guard let model else { throw .missingModel(path: file.path, model: nil) }
        let url = URL(fileURLWithPath: model)
        guard FileManager.default.fileExists(atPath: url.path) else { throw .missingModel(path: file.path, model: model) }
        return url
    }

    // MARK: Writing

    /// The file's text: `json.dumps(indent=2)` of the members in order, and a newline.
    public var text: String { JSONValue.object(members).pythonJSONString(indent: 2) + "\n" }

    /// Writes `text` to `url` (default: `file`) atomically.
    public func write(to url: URL? = nil) throws {
        try Data(text.utf8).write(to: url ?? file, options: .atomic)
    }

    /// Writes `folder/args.json` atomically.
    public func write(into folder: URL) throws {
        try write(to: folder.appendingPathComponent(Self.fileName))
    }
}
