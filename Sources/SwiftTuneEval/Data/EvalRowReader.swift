import Foundation
import SwiftTuneChat
import SwiftTuneJSON

/// Reads one row's fields in a benchmark's layout; a missing or ill-typed field is an `EvalError.badRow` naming it.
struct EvalRowReader {
    let fields: [JSONMember]
    let location: String

    func value(_ key: String) -> JSONValue? {
        fields.last { $0.key == key }?.value
    }

    /// A field as text: strings as they are, numbers as written; nil when missing, null or empty.
    func text(_ key: String) -> String? {
        switch value(key) {
        case let .string(s)?: s.isEmpty ? nil : s
        case let .number(n)?: n.description
        default: nil
        }
    }

    func required(_ keys: [String], hint: String) throws -> String {
        for key in keys { if let text = text(key) { return text } }
        throw EvalError.badRow(location: location, reason: "missing field \(keys.map { "'\($0)'" }.joined(separator: " or ")) "
            + "(has \(fields.map(\.key).joined(separator: ", ")))", hint: hint)
    }

    func sample(as benchmark: Benchmark, subset: String) throws -> EvalSample {
        switch benchmark.kind {
        case .math: try mathSample(subset: subset)
        case .multipleChoice: try choiceSample(benchmark, subset: subset)
        case .openQA: try qaSample(subset: subset)
        }
    }

    // MARK: Layouts

    /// GSM8K: the gold number is what follows the last `####` of `answer`.
    func mathSample(subset: String) throws -> EvalSample {
        let hint = "a GSM8K row is {\"question\": …, \"answer\": \"… #### 42\"}"
        let question = try required(["question"], hint: hint)
        let answer = try required(["answer"], hint: hint)
        let gold: String?
        var solution: String?
        if let range = answer.range(of: "####", options: .backwards) {
            gold = AnswerExtraction.normalizedNumber(String(answer[range.upperBound...]))
            solution = answer[..<range.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            gold = AnswerExtraction.normalizedNumber(answer)
        }
        guard let gold else {
            throw EvalError.badRow(location: location, reason: "answer has no final number after '####'", hint: hint)
        }
        return EvalSample(location: location, subset: subset, kind: .math, question: question, gold: gold,
                          solution: solution)
    }

    /// MMLU / ARC / C-Eval / general_mcq: options as letter columns or a `choices` list, the answer as a letter,
    /// an index, or one of ARC's labels.
    func choiceSample(_ benchmark: Benchmark, subset: String) throws -> EvalSample {
        let hint = "a multiple-choice row is {\"question\": …, \"A\": …, \"B\": …, \"answer\": \"B\"} "
            + "(or \"choices\": [...] with \"answer\": index or letter, or ARC's choices {text, label} with answerKey)"
        let question = try required(["question"], hint: hint)
        var choices: [String] = []
        var labels: [String]?
        while let option = text(EvalSample.letter(choices.count)) { choices.append(option) }
        if choices.isEmpty, let list = value("choices") ?? value("options") {
            if let array = list.arrayValue {
                choices = array.compactMap(\.stringValue)
                guard choices.count == array.count else {
                    throw EvalError.badRow(location: location, reason: "choices must all be strings", hint: hint)
                }
            } else if let texts = list["text"]?.arrayValue {
                choices = texts.compactMap(\.stringValue)
                labels = list["label"]?.arrayValue?.compactMap(\.stringValue)
            }
        }
        guard choices.count >= 2, choices.count <= 26 else {
            throw EvalError.badRow(location: location, reason: "found \(choices.count) options, expected 2 to 26", hint: hint)
        }
        let answer = try required(["answer", "answerKey", "label"], hint: hint).trimmingCharacters(in: .whitespaces)
        let letters = choices.indices.map(EvalSample.letter)
        var index: Int?
        if let labels, let position = labels.firstIndex(of: answer) {
            index = position
        } else if let position = letters.firstIndex(of: answer.uppercased()) {
            index = position
        } else if let number = Int(answer), choices.indices.contains(number) {
            index = number  // HF's MMLU: a 0-based index
        }
        guard let index else {
            throw EvalError.badRow(location: location, reason: "answer '\(answer)' is not one of \(letters.joined(separator: ", ")) "
                + "nor an option index 0…\(choices.count - 1)", hint: hint)
        }
        let rowSubset = text("subject") ?? subset
        return EvalSample(location: location, subset: rowSubset, kind: .multipleChoice, question: question,
                          choices: choices, gold: letters[index])
    }

    /// general_qa: `query` and `response`, an optional `system` and `history` (`[[query, response], …]`).
    func qaSample(subset: String) throws -> EvalSample {
        let hint = "a general_qa row is {\"query\": …, \"response\": …} (optional \"system\", \"history\": [[q, a], …])"
        let query = try required(["query", "question"], hint: hint)
        let response = try required(["response", "answer"], hint: hint)
        var history: [Message] = []
        if let turns = value("history")?.arrayValue {
            for turn in turns {
                guard let pair = turn.arrayValue, pair.count == 2, let q = pair[0].stringValue, let a = pair[1].stringValue else {
                    throw EvalError.badRow(location: location, reason: "history entries must be [query, response] pairs", hint: hint)
                }
                history += [.user(q), .assistant(a)]
            }
        }
        return EvalSample(location: location, subset: subset, kind: .openQA, question: query, gold: response,
                          system: text("system"), history: history)
    }
}
