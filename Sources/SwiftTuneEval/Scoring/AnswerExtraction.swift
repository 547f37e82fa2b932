import Foundation

/// Pulls the scored part out of a model's answer: the final number of a math answer, the letter of a
/// multiple-choice answer.
public enum AnswerExtraction {
    /// The final number of a math answer: the content of the last `\boxed{…}` when there is one (the prompt asks
    /// for it), else the last number in the text; normalized (`normalizedNumber`). Nil when there is no number.
    public static func finalNumber(in answer: String) -> String? {
        if let boxed = lastBoxed(in: answer), let number = normalizedNumber(boxed) { return number }
        return normalizedNumber(answer)
    }

    /// The last number in `text` with thousands separators and a trailing zero fraction dropped
    /// (`"$1,000.00."` → `"1000"`, `"-0.50"` → `"-0.5"`); nil when `text` has no digit.
    public static func normalizedNumber(_ text: String) -> String? {
        guard let match = text.matches(of: #/-?\d[\d,]*(?:\.\d+)?/#).last else { return nil }
        var number = String(match.output).replacingOccurrences(of: ",", with: "")
        if number.contains(".") {
            while number.hasSuffix("0") { number.removeLast() }
            if number.hasSuffix(".") { number.removeLast() }
        }
        if number == "-0" { number = "0" }
        return number
    }

    /// The content of the last `\boxed{…}` (braces inside it balanced), nil without one.
    public static func lastBoxed(in text: String) -> String? {
        guard let start = text.range(of: "\\boxed{", options: .backwards) else { return nil }
        var depth = 1
        var content = ""
        for character in text[start.upperBound...] {
            if character == "{" { depth += 1 }
            if character == "}" {
                depth -= 1
                if depth == 0 { return content }
            }
            content.append(character)
        }
        return nil
    }

    /// The option letter a multiple-choice answer gives, among `letters`: the last `ANSWER: X` (the format the prompt
    /// asks for; `Answer: (X)` too), else "answer is X", else a letter that opens the answer (`B`, `(B)`, `B.`,
    /// `B) …`). Nil when none is found.
    public static func choiceLetter(in answer: String, letters: [String]) -> String? {
        let valid = Set(letters)
        func pick(_ candidates: [Substring]) -> String? {
            candidates.map { $0.uppercased() }.last { valid.contains($0) }
        }
        if let letter = pick(answer.matches(of: #/(?i)answer\s*[:：]\s*\(?([A-Za-z])\b/#).map(\.output.1)) {
            return letter
        }
        if let letter = pick(answer.matches(of: #/(?i)answer is\s*\(?([A-Za-z])\b/#).map(\.output.1)) {
            return letter
        }
        let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        if let match = trimmed.prefixMatch(of: #/\(?([A-Z])(?:[\).:：,]|\s|$)/#), valid.contains(String(match.output.1)) {
            return String(match.output.1)
        }
        return nil
    }
}
