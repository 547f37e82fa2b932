/// `max |reference − actual| / max |reference|` (the plain `max |reference − actual|` when the reference is all
/// zeros; ∞ when the counts differ): one number for how far a whole output (logits, a gradient) is off, the measure
/// `LogitsComparison` and the model tests use.
public func relativeMaxError(_ reference: [Float], _ actual: [Float]) -> Double {
    guard reference.count == actual.count else { return .infinity }
    var maxDiff = 0.0, maxRef = 0.0
    for (r, a) in zip(reference, actual) {
        maxDiff = max(maxDiff, abs(Double(r) - Double(a)))
        maxRef = max(maxRef, abs(Double(r)))
    }
    return maxRef > 0 ? maxDiff / maxRef : maxDiff
}
