import SwiftTuneChat

/// How a benchmark's rows are scored.
public enum EvalTaskKind: String, Sendable, Equatable, Codable {
    /// A math word problem: the final number of the answer against the gold number (exact match).
    case math
    /// A question with lettered options: the letter the model answers (generation) and the option the model finds
    /// most likely (log-likelihood), against the gold letter.
    case multipleChoice = "multiple_choice"
    /// A free-form answer against a reference text: ROUGE-L F1 and BLEU-4.
    case openQA = "open_qa"
}

/// One row of an evaluation set, ready to be asked.
public struct EvalSample: Sendable, Equatable {
    /// Where it came from, `file:line`.
    public var location: String
    /// The subset it is reported under (a subject, a file name, or `default`).
    public var subset: String
    public var kind: EvalTaskKind
    /// The question (for multiple choice, without its options).
    public var question: String
    /// Options, in letter order A, B, C… (multiple choice only).
    public var choices: [String]
    /// The gold answer: a number (math), a letter (multiple choice) or the reference text (open QA).
    public var gold: String
    /// A system prompt from the row (general_qa), else the model's.
    public var system: String?
    /// Earlier turns from the row (general_qa `history`).
    public var history: [Message]
    /// The worked answer before its final line (GSM8K), for few-shot examples.
    public var solution: String?

    public init(location: String, subset: String, kind: EvalTaskKind, question: String, choices: [String] = [],
                gold: String, system: String? = nil, history: [Message] = [], solution: String? = nil) {
        self.location = location
        self.subset = subset
        self.kind = kind
        self.question = question
        self.choices = choices
        self.gold = gold
        self.system = system
        self.history = history
        self.solution = solution
    }

    /// The option letters of this sample: A, B, C… as many as it has options.
    public var letters: [String] { choices.indices.map { EvalSample.letter($0) } }

    /// The letter of option `index` (0 → A).
    public static func letter(_ index: Int) -> String {
        String(UnicodeScalar(UInt8(65 + index)))
    }
}
