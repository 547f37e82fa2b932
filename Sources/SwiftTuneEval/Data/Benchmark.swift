/// The benchmarks `--eval_dataset` knows by name, with the row layout each reads (EvalScope's names).
///
/// Data is never built into the binary: a name resolves to a folder (`--dataset_dir DIR` → `DIR/NAME`, or
/// `NAME=PATH`), and any `.jsonl`, `.json` or `.csv` file or folder in a known layout can be given by path.
public enum Benchmark: String, Sendable, CaseIterable, Equatable {
    /// GSM8K: `question`, `answer` (the worked answer ending `#### N`); `test.jsonl`, few-shot from `train.jsonl`.
    case gsm8k
    /// MMLU: `question`, options (`A`…`D` columns, or `choices`), `answer` (a letter or an index); the subject from
    /// `subject` or the file name (`abstract_algebra_test.csv`).
    case mmlu
    /// ARC (AI2 Reasoning Challenge): `question`, `choices` (`{text: […], label: […]}`), `answerKey`.
    case arc
    /// C-Eval: `question`, `A`…`D`, `answer`; the subject from the file name (`computer_network_val.csv`).
    case ceval
    /// EvalScope's custom multiple-choice layout: `question`, `A`, `B`, … , `answer`.
    case generalMCQ = "general_mcq"
    /// EvalScope's custom question-answer layout: `query`, `response` (optional `system`, `history`).
    case generalQA = "general_qa"

    public var kind: EvalTaskKind {
        switch self {
        case .gsm8k: .math
        case .mmlu, .arc, .ceval, .generalMCQ: .multipleChoice
        case .generalQA: .openQA
        }
    }

    /// The names `--eval_dataset` accepts, sorted.
    public static var names: [String] { allCases.map(\.rawValue).sorted() }
}
