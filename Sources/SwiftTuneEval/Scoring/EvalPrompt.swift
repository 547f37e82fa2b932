import SwiftTuneChat

/// The user turns the benchmarks ask with (EvalScope's templates, or a dataset's own `prompt_template`), and what
/// log-likelihood scoring continues with.
///
/// A template's placeholders: `{question}`; for multiple choice also `{choices}` (`A) …` lines) and `{letters}`
/// (`A,B,C,D`).
public enum EvalPrompt {
    /// GSM8K's template (EvalScope's zero-shot one).
    public static let mathTemplate = "{question}\nPlease reason step by step, and put your final answer within \\boxed{}."
    /// The multiple-choice template (EvalScope's single-answer one).
    public static let choiceTemplate = "Answer the following multiple choice question. The entire content of your "
        + "response should be of the following format: 'ANSWER: $LETTER' (without quotes) where LETTER is one of "
        + "{letters}.\n\n{question}\n\n{choices}"
    /// Open QA asks the query as it is.
    public static let openQATemplate = "{question}"
    /// What the assistant's turn starts with before the scored option letter.
    public static let choicePrefix = "ANSWER:"

    public static func defaultTemplate(for kind: EvalTaskKind) -> String {
        switch kind {
        case .math: mathTemplate
        case .multipleChoice: choiceTemplate
        case .openQA: openQATemplate
        }
    }

    /// The user turn for `sample` (`template` nil: the kind's default), with `fewShot` worked examples before it
    /// (math: the solution and `The final answer is \boxed{N}.`; multiple choice: the question and `ANSWER: X`).
    public static func text(for sample: EvalSample, fewShot: [EvalSample] = [], template: String? = nil) -> String {
        let letters = sample.letters
        let options = zip(letters, sample.choices).map { "\($0)) \($1)" }.joined(separator: "\n")
        let question = (template ?? defaultTemplate(for: sample.kind))
            .replacingOccurrences(of: "{letters}", with: letters.joined(separator: ","))
            .replacingOccurrences(of: "{choices}", with: options)
            .replacingOccurrences(of: "{question}", with: sample.question)
        let examples = fewShot.map { example in
            switch example.kind {
            case .math:
                "\(example.question)\n\(example.solution.map { $0 + "\n" } ?? "")The final answer is \\boxed{\(example.gold)}."
            case .multipleChoice:
                text(for: example, template: template) + "\n\(choicePrefix) \(example.gold)"
            case .openQA:
                "\(example.question)\n\(example.gold)"
            }
        }
        guard !examples.isEmpty else { return question }
        return "Here are some examples of how to solve similar problems:\n\n" + examples.joined(separator: "\n\n")
            + "\n\n" + question
    }

    /// The conversation the model is asked: the row's system and history (open QA), then the user turn.
    public static func conversation(for sample: EvalSample, fewShot: [EvalSample] = [],
                                    template: String? = nil) -> Conversation {
        Conversation(system: sample.system,
                     messages: sample.history + [.user(text(for: sample, fewShot: fewShot, template: template))])
    }

    /// The log-likelihood request of a multiple-choice sample: after `ANSWER:`, each option as ` A`, ` B`, ….
    public static func choiceRequest(for sample: EvalSample, fewShot: [EvalSample] = [],
                                     template: String? = nil) -> LogLikelihoodRequest {
        LogLikelihoodRequest(conversation: conversation(for: sample, fewShot: fewShot, template: template), prefix: choicePrefix,
                             continuations: sample.letters.map { " \($0)" }, location: sample.location)
    }
}
