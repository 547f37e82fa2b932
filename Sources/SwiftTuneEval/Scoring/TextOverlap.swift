import Foundation
import SwiftTuneGeneration

/// ROUGE-L and BLEU-4 of an answer against a reference, as EvalScope's `general_qa` reports them (each in [0, 1]).
///
/// Both split texts the same way (`tokens`): lowercased, runs of letters or digits are words, and each CJK
/// character is a word of its own (so Chinese answers are scored per character); punctuation is dropped.
public enum TextOverlap {
    /// The words of `text` (see the type's note).
    public static func tokens(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for scalar in text.lowercased().unicodeScalars {
            if isCJK(scalar) {
                if !current.isEmpty { words.append(current); current = "" }
                words.append(String(scalar))
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FA1F, 0x3040...0x30FF, 0xAC00...0xD7AF: true
        default: false
        }
    }

    /// ROUGE-L F1 (Lin 2004, https://aclanthology.org/W04-1013/): `2·P·R / (P + R)` with `P = LCS / answer words`
    /// and `R = LCS / reference words`; 0 when either is empty.
    public static func rougeL(_ answer: String, reference: String) -> Double {
        InferenceMetric.rougeLF1(tokens(answer), tokens(reference))
    }

    /// Sentence BLEU-4 (Papineni et al. 2002, https://aclanthology.org/P02-1040/) as NLTK's `sentence_bleu` with
    /// `SmoothingFunction().method1`: the geometric mean of the clipped 1- to 4-gram precisions (each over
    /// `max(1, answer n-grams)`; an order with no match counts `0.1 / that`) times the brevity penalty
    /// `min(1, exp(1 − reference words / answer words))`. 0 for an empty answer or one with no word of the reference.
    public static func bleu4(_ answer: String, reference: String) -> Double {
        let a = tokens(answer), r = tokens(reference)
        guard !a.isEmpty else { return 0 }
        var logSum = 0.0
        for n in 1...4 {
            let total = max(1, a.count - n + 1)
            let answerGrams = ngrams(a, n), referenceGrams = ngrams(r, n)
            let matches = answerGrams.reduce(0) { $0 + min($1.value, referenceGrams[$1.key] ?? 0) }
            if n == 1, matches == 0 { return 0 }
            let precision = matches > 0 ? Double(matches) / Double(total) : 0.1 / Double(total)
            logSum += 0.25 * Foundation.log(precision)
        }
        let brevity = a.count > r.count ? 1 : Foundation.exp(1 - Double(r.count) / Double(a.count))
        return brevity * Foundation.exp(logSum)
    }

    static func ngrams(_ words: [String], _ n: Int) -> [[String]: Int] {
        var counts: [[String]: Int] = [:]
        guard words.count >= n else { return counts }
        for start in 0...(words.count - n) { counts[Array(words[start..<(start + n)]), default: 0] += 1 }
        return counts
    }
}
