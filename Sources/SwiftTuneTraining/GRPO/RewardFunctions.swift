import Foundation
import SwiftTuneChat
import SwiftTuneJSON

/// One completion as a reward function sees it: the prompt's text, the completion's text and token count, whether it
/// ended on a stop token, and the dataset row it answers (every column, e.g. `solution`) with where the row is.
public struct RewardSample: Sendable {
    public var prompt: String
    public var completion: String
    public var completionTokenCount: Int
    public var terminated: Bool
    /// The row's columns as read from the file.
    public var row: [JSONMember]
    /// `file:line` of the row, for errors.
    public var location: String
    /// The prompt's whole conversation (system and earlier turns), for rewards that render it (`--reward_model`).
    public var conversation: Conversation?

    public init(prompt: String, completion: String, completionTokenCount: Int, terminated: Bool = true,
                row: [JSONMember] = [], location: String = "-", conversation: Conversation? = nil) {
        self.prompt = prompt
        self.completion = completion
        self.completionTokenCount = completionTokenCount
        self.terminated = terminated
        self.row = row
        self.location = location
        self.conversation = conversation
    }

    /// The text of column `key` (a string, or a number's literal); nil when absent or null.
    public func text(_ key: String) -> String? {
        guard let value = row.last(where: { $0.key == key })?.value else { return nil }
        switch value {
        case let .string(s): return s
        case let .number(n): return n.description
        case let .bool(b): return b ? "true" : "false"
        default: return nil
        }
    }
}

/// A reward: one number per completion. Built-ins carry ms-swift's names (`--reward_funcs accuracy format cosine
/// repetition soft_overlong`); a reward that cannot score a completion throws (never a silent 0).
public protocol RewardFunction: Sendable {
    /// The name logged as `rewards/<name>/mean`.
    var name: String { get }
    /// The row columns the reward reads: every entry lists alternatives, one of which must be present in each row.
    var requiredColumns: [[String]] { get }
    func rewards(_ samples: [RewardSample]) throws -> [Double]
}

extension RewardFunction {
    public var requiredColumns: [[String]] { [] }

    /// Checks that every row has the columns the reward reads, naming the reward, the column and the row.
    public func checkColumns(rows: [(fields: [JSONMember], location: String)]) throws {
        for alternatives in requiredColumns {
            for row in rows where !alternatives.contains(where: { key in row.fields.contains { $0.key == key && !$0.value.isNull } }) {
                throw TrainingError.invalidArgument(
                    flag: "reward_funcs", value: name,
                    expected: "a column \(alternatives.joined(separator: " or ")) in every row; \(row.location) has "
                        + "[\(row.fields.map(\.key).joined(separator: ", "))] (hint: map yours with --columns)")
            }
        }
    }
}

/// The settings of the built-in rewards (ms-swift's flags and defaults).
public struct RewardSettings: Sendable, Equatable {
    /// `--cosine_min_len_value_wrong` … `--cosine_max_len`: the cosine length schedule (nil: the completion budget).
    public var cosineMinLenValueWrong = -0.5
    public var cosineMaxLenValueWrong = 0.0
    public var cosineMinLenValueCorrect = 1.0
    public var cosineMaxLenValueCorrect = 0.5
    public var cosineMaxLen: Int?
    /// `--repetition_n_grams`, `--repetition_max_penalty`.
    public var repetitionNGrams = 3
    public var repetitionMaxPenalty = -1.0
    /// `--soft_max_length` (nil: the completion budget), `--soft_cache_length` (soft_overlong needs it).
    public var softMaxLength: Int?
    public var softCacheLength: Int?
    /// `--max_completion_length`, the default of the length settings.
    public var maxCompletionLength = 512

    public init() {}
}

/// The built-in rewards by ms-swift's names.
public enum BuiltinRewards {
    public static let names = ["accuracy", "format", "cosine", "repetition", "soft_overlong"]

    public static func make(_ name: String, settings: RewardSettings) throws -> any RewardFunction {
        switch name {
        case "accuracy": return AccuracyReward()
        case "format": return FormatReward()
        case "cosine":
            let maxLength = settings.cosineMaxLen ?? settings.maxCompletionLength
            guard maxLength > 0 else {
                throw TrainingError.invalidArgument(flag: "cosine_max_len", value: "\(maxLength)", expected: "a positive integer")
            }
            return CosineReward(settings: settings, maxLength: maxLength)
        case "repetition":
            guard settings.repetitionNGrams >= 1 else {
                throw TrainingError.invalidArgument(flag: "repetition_n_grams", value: "\(settings.repetitionNGrams)",
                                                    expected: "a positive integer (default 3)")
            }
            return RepetitionReward(nGrams: settings.repetitionNGrams, maxPenalty: settings.repetitionMaxPenalty)
        case "soft_overlong":
            let maxLength = settings.softMaxLength ?? settings.maxCompletionLength
            guard let cache = settings.softCacheLength else {
                throw TrainingError.invalidArgument(flag: "soft_cache_length", value: "unset",
                                                    expected: "a length with --reward_funcs soft_overlong (the penalty ramp, e.g. 64)")
            }
            guard cache > 0, cache < maxLength else {
                throw TrainingError.invalidArgument(flag: "soft_cache_length", value: "\(cache)",
                                                    expected: "a number in (0, --soft_max_length \(maxLength))")
            }
            return SoftOverlongReward(maxLength: maxLength, cacheLength: cache)
        default:
            throw TrainingError.invalidArgument(
                flag: "reward_funcs", value: name,
                expected: "one of \(names.joined(separator: ", ")) (user rewards: --reward_command \"prog args\")")
        }
    }
}

/// `accuracy`: 1 when the completion's final answer equals the row's `solution` (or `answer`), else 0.
///
/// The answer of a text is its last `\boxed{…}`, else the content of its last `<answer>…</answer>`, else what
/// follows GSM8K's `#### `, else its last number. Both sides compare as numbers when both parse (commas, `$` and a
/// trailing `.` dropped, `1/2` and `0.5` equal within 1e-6 relative), else as trimmed text. ms-swift verifies with
/// `math_verify` (symbolic LaTeX); this is the numeric subset, which covers GSM8K-style answers.
public struct AccuracyReward: RewardFunction {
    public var name: String { "accuracy" }
    public var requiredColumns: [[String]] { [["solution", "answer"]] }

    public init() {}

    public func rewards(_ samples: [RewardSample]) throws -> [Double] {
        samples.map { sample in
            guard let gold = (sample.text("solution") ?? sample.text("answer")).flatMap(Self.finalAnswer),
                  let answer = Self.finalAnswer(sample.completion) else { return 0 }
            return Self.equal(answer, gold) ? 1 : 0
        }
    }

    /// The final answer of a text, or nil when it has none.
    public static func finalAnswer(_ text: String) -> String? {
        if let boxed = lastBoxed(text) { return boxed }
        if let range = text.range(of: "<answer>", options: .backwards) {
            let rest = text[range.upperBound...]
            let inner = rest.range(of: "</answer>").map { rest[..<$0.lowerBound] } ?? rest
            let trimmed = inner.trimmingCharacters(in: .whitespacesAndNewlines)
            if let boxed = lastBoxed(String(trimmed)) { return boxed }
            return lastNumber(String(trimmed)) ?? (trimmed.isEmpty ? nil : String(trimmed))
        }
        if let range = text.range(of: "####", options: .backwards) {
            let tail = text[range.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
            return lastNumber(String(tail.split(separator: "\n").first ?? "")) ?? (tail.isEmpty ? nil : tail)
        }
        return lastNumber(text)
    }

    /// The content of the last `\boxed{…}` (braces balanced).
    static func lastBoxed(_ text: String) -> String? {
        guard let start = text.range(of: "\\boxed{", options: .backwards) else { return nil }
        var depth = 1
        var out = ""
        for ch in text[start.upperBound...] {
            if ch == "{" { depth += 1 }
            if ch == "}" { depth -= 1; if depth == 0 { return out.trimmingCharacters(in: .whitespaces) } }
            out.append(ch)
        }
        return nil
    }

    /// The last number in a text (`-1,234.5`, `3/4`), commas removed.
    static func lastNumber(_ text: String) -> String? {
        let pattern = #"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        let ns = text as NSString
        guard let match = regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).last else { return nil }
        return ns.substring(with: match.range).replacingOccurrences(of: ",", with: "")
    }

    static func number(_ text: String) -> Double? {
        var t = text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ",", with: "")
            .replacingOccurrences(of: "$", with: "")
        while t.hasSuffix(".") { t.removeLast() }
        if t.hasSuffix("%") { t.removeLast() }
        let parts = t.split(separator: "/")
        if parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]), b != 0 { return a / b }
        return Double(t)
    }

    static func equal(_ a: String, _ b: String) -> Bool {
        if let x = number(a), let y = number(b) { return abs(x - y) <= 1e-6 * max(1, abs(y)) }
        return a.trimmingCharacters(in: .whitespacesAndNewlines) == b.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// `format`: 1 when the completion is exactly `<think>…</think>` then `<answer>…</answer>` (whitespace between), else 0
/// (ms-swift's `^<think>.*?</think>\s*<answer>.*?</answer>(?![\s\S])`).
public struct FormatReward: RewardFunction {
    public var name: String { "format" }
    public init() {}

    public func rewards(_ samples: [RewardSample]) throws -> [Double] {
        let regex = try NSRegularExpression(pattern: #"^<think>.*?</think>\s*<answer>.*?</answer>(?![\s\S])"#,
                                            options: [.dotMatchesLineSeparators, .anchorsMatchLines])
        return samples.map { sample in
            let ns = sample.completion as NSString
            let match = regex.firstMatch(in: sample.completion, options: [.anchored], range: NSRange(location: 0, length: ns.length))
            return match != nil ? 1 : 0
        }
    }
}

/// `cosine` (https://arxiv.org/abs/2502.03373): by the completion's token count t on a cosine from its value at
/// length 0 to its value at `cosine_max_len`: correct answers (`accuracy` 1) from `cosine_min_len_value_correct` to
/// `cosine_max_len_value_correct` (short correct answers earn most), wrong ones from `cosine_min_len_value_wrong` to
/// `cosine_max_len_value_wrong` (long wrong answers are penalised least).
public struct CosineReward: RewardFunction {
    public var name: String { "cosine" }
    public var requiredColumns: [[String]] { [["solution", "answer"]] }
    let settings: RewardSettings
    let maxLength: Int

    init(settings: RewardSettings, maxLength: Int) {
        self.settings = settings
        self.maxLength = maxLength
    }

    public func rewards(_ samples: [RewardSample]) throws -> [Double] {
        let accuracy = try AccuracyReward().rewards(samples)
        return zip(samples, accuracy).map { sample, correct in
            let (atZero, atMax) = correct >= 1
                ? (settings.cosineMinLenValueCorrect, settings.cosineMaxLenValueCorrect)
                : (settings.cosineMinLenValueWrong, settings.cosineMaxLenValueWrong)
            let t = Double(sample.completionTokenCount)
            return atZero - (atZero - atMax) * (1 - cos(t * Double.pi / Double(maxLength))) / 2
        }
    }
}

/// `repetition`: `max_penalty × (1 − distinct n-grams / n-grams)` over the lower-cased words (0 for a completion of
/// fewer than n words).
public struct RepetitionReward: RewardFunction {
    public var name: String { "repetition" }
    let nGrams: Int
    let maxPenalty: Double

    public func rewards(_ samples: [RewardSample]) throws -> [Double] {
        samples.map { sample in
            let words = sample.completion.lowercased().split(whereSeparator: \.isWhitespace).map(String.init)
            guard words.count >= nGrams else { return 0 }
            var seen = Set<[String]>()
            let total = words.count - nGrams + 1
            for i in 0..<total { seen.insert(Array(words[i..<(i + nGrams)])) }
            return (1 - Double(seen.count) / Double(total)) * maxPenalty
        }
    }
}

/// `soft_overlong` (DAPO): 0 up to `soft_max_length − soft_cache_length` tokens, then a linear penalty reaching −1 at
/// `soft_max_length`: `min(0, −(t − (max − cache)) / cache)`.
public struct SoftOverlongReward: RewardFunction {
    public var name: String { "soft_overlong" }
    let maxLength: Int
    let cacheLength: Int

    public func rewards(_ samples: [RewardSample]) throws -> [Double] {
        samples.map { sample in
            let exceed = Double(sample.completionTokenCount - (maxLength - cacheLength))
            return min(-exceed / Double(cacheLength), 0)
        }
    }
}
