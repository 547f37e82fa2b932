import SwiftTuneChat
import SwiftTuneJSON

/// The built-in `self-cognition` dataset (ms-swift's `swift/self-cognition`): 100 Chinese and 100 English
/// questions about the model's identity, written for this project, with `{{NAME}}` and `{{AUTHOR}}` placeholders.
public enum SelfCognition {
    /// Names `--dataset` accepts for it.
    public static let names: Set<String> = ["self-cognition", "swift/self-cognition", "modelscope/self-cognition",
                                            "self_cognition"]

    /// `--model_name` / `--model_author` as ms-swift reads them: one value for both languages, or `zh en`.
    public struct Identity: Sendable, Equatable {
        public var zh: String?
        public var en: String?

        public init(zh: String?, en: String?) {
            self.zh = zh
            self.en = en
        }

        /// From the flag's values: `[x]` → both x; `[zh, en]` → each.
        public init?(values: [String]?) {
            guard let values, let first = values.first else { return nil }
            self.init(zh: first, en: values.count > 1 ? values[1] : first)
        }
    }

    /// The rows with placeholders filled (Chinese rows get `.zh`, English rows `.en`; an unset value leaves the
    /// placeholder, as ms-swift does).
    public static func rows(name: Identity?, author: Identity?) -> [(row: DatasetRow, location: RowLocation)] {
        var out: [(DatasetRow, RowLocation)] = []
        let bytes = PackageResources.self_cognition_jsonl
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            guard !line.isEmpty, let value = try? JSONParser.parse(line, options: .python),
                  var query = value["query"]?.stringValue, var response = value["response"]?.stringValue else { continue }
            let isChinese = value["tag"]?.stringValue == "zh"
            for (placeholder, identity) in [("{{NAME}}", name), ("{{AUTHOR}}", author)] {
                guard let replacement = isChinese ? identity?.zh : identity?.en else { continue }
                query = query.replacingOccurrences(of: placeholder, with: replacement)
                response = response.replacingOccurrences(of: placeholder, with: replacement)
            }
            let row = DatasetRow(conversation: Conversation(messages: [.user(query), .assistant(response)]))
            out.append((row, RowLocation(file: "self-cognition", line: lineNumber)))
        }
        return out
    }
}
