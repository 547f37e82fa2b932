import Foundation
import SwiftTuneJSON

/// One dataset's settings in `--dataset_args` (EvalScope's `dataset_args`): `{"gsm8k": {"local_path": "data/gsm8k",
/// "few_shot_num": 4, "prompt_template": "…"}}`.
public struct EvalDatasetArguments: Sendable, Equatable {
    /// The file or folder the benchmark name reads.
    public var localPath: String?
    /// Worked examples before each question (GSM8K), over `--few_shot_num`.
    public var fewShotNum: Int?
    /// The user turn's template (placeholders in `EvalPrompt`).
    public var promptTemplate: String?

    public init(localPath: String? = nil, fewShotNum: Int? = nil, promptTemplate: String? = nil) {
        self.localPath = localPath
        self.fewShotNum = fewShotNum
        self.promptTemplate = promptTemplate
    }

    static let keys = ["local_path", "few_shot_num", "prompt_template"]

    /// Parses `--dataset_args`: a JSON object from dataset name to settings; an unknown key or a wrong type names it.
    public static func parse(_ text: String) throws -> [String: EvalDatasetArguments] {
        let root: JSONValue
        do { root = try JSONParser.parse(text) } catch {
            throw EvalError.invalidSetting(flag: "dataset_args", value: text, expected: "a JSON object (\(error))")
        }
        guard let datasets = root.objectMembers else {
            throw EvalError.invalidSetting(flag: "dataset_args", value: text, expected: "a JSON object {\"gsm8k\": {…}}")
        }
        var result: [String: EvalDatasetArguments] = [:]
        for member in datasets {
            guard let settings = member.value.objectMembers else {
                throw EvalError.invalidSetting(flag: "dataset_args", value: "\(member.key): \(member.value.summary)",
                                               expected: "an object of " + keys.joined(separator: ", "))
            }
            var arguments = EvalDatasetArguments()
            for setting in settings {
                let where_ = "\(member.key).\(setting.key)"
                switch setting.key {
                case "local_path":
                    guard let path = setting.value.stringValue else {
                        throw EvalError.invalidSetting(flag: "dataset_args", value: where_, expected: "a path string")
                    }
                    arguments.localPath = path
                case "few_shot_num":
                    guard let n = setting.value.intValue, n >= 0 else {
                        throw EvalError.invalidSetting(flag: "dataset_args", value: where_, expected: "an integer ≥ 0")
                    }
                    arguments.fewShotNum = n
                case "prompt_template":
                    guard let template = setting.value.stringValue, template.contains("{question}") else {
                        throw EvalError.invalidSetting(flag: "dataset_args", value: where_,
                                                       expected: "a string with a {question} placeholder")
                    }
                    arguments.promptTemplate = template
                default:
                    throw EvalError.invalidSetting(flag: "dataset_args", value: where_,
                                                   expected: "one of the keys " + keys.joined(separator: ", "))
                }
            }
            result[member.key] = arguments
        }
        return result
    }
}
