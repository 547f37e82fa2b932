import SwiftTuneTensor

/// Elementwise tolerance of a comparison: an element passes when `|candidate − reference| ≤ absolute + relative·|reference|`.
public struct ComparisonTolerance: Sendable, Equatable, CustomStringConvertible {
    public var absolute: Float
    public var relative: Float

    public init(absolute: Float, relative: Float) {
        self.absolute = absolute
        self.relative = relative
    }

    /// Bit-exact (casts, copies, fills).
    public static let exact = ComparisonTolerance(absolute: 0, relative: 0)

    public var description: String {
        self == .exact ? "exact" : "\(format(absolute))+\(format(relative))·|ref|"
    }
}

/// One output of one op case, run on a reference and a candidate backend and compared element by element.
public struct BackendOpComparison: Sendable, CustomStringConvertible {
    public enum Outcome: Sendable, Equatable {
        /// Every element within tolerance.
        case passed
        /// At least one element outside tolerance (or a shape / count mismatch).
        case failed
        /// The named backend threw `TensorError.unsupported` for this op.
        case unsupported(backend: String)
        /// Running the op threw something else; the message says what.
        case error(String)
    }

    /// The `Backend` method, e.g. `matmul`.
    public var op: String
    /// What this case exercises, e.g. `NT, batch 3, shared b`.
    public var variant: String
    /// Which output was compared, e.g. `c` or `stats`.
    public var output: String
    public var outcome: Outcome
    public var tolerance: ComparisonTolerance
    public var elementCount: Int = 0
    /// Largest `|candidate − reference|`.
    public var maxAbsoluteError: Float = 0
    /// Largest `|candidate − reference| / |reference|` over elements with `|reference| > tolerance.absolute`.
    public var maxRelativeError: Float = 0
    /// Flat index of the element furthest outside tolerance (or with the largest error when all pass).
    public var worstIndex: Int?
    public var worstReference: Float?
    public var worstCandidate: Float?

    /// Whether the op is a gradient (`…Backward`); a candidate lacking one is reported, not failed.
    public var isBackward: Bool { op.hasSuffix("Backward") }

    /// Whether this row should fail a run: a mismatch, an error, or a forward op the candidate lacks.
    /// An op the reference lacks cannot be compared and is not counted as a failure.
    public var isFailure: Bool {
        switch outcome {
        case .passed: false
        case .failed, .error: true
        case .unsupported: !isBackward && unsupportedByCandidate
        }
    }

    /// Set when the candidate (not the reference) lacked the op.
    public var unsupportedByCandidate = false

    public static let tableHeader = pad("op", 18) + pad("variant", 30) + pad("output", 11) + pad("result", 14)
        + pad("max abs", 10) + pad("max rel", 10) + pad("tolerance", 19) + "worst element (reference → candidate)"

    public var description: String {
        let result: String = switch outcome {
        case .passed: "ok"
        case .failed: "FAIL"
        case let .unsupported(backend): isFailure ? "MISSING \(backend)" : "n/a (\(backend))"
        case .error: "ERROR"
        }
        var line = Self.pad(op, 18) + Self.pad(variant, 30) + Self.pad(output, 11) + Self.pad(result, 14)
        if case let .error(message) = outcome { return line + message }
        if case .unsupported = outcome { return line }
        line += Self.pad(format(maxAbsoluteError), 10) + Self.pad(format(maxRelativeError), 10)
            + Self.pad(tolerance.description, 19)
        if let worstIndex, let worstReference, let worstCandidate {
            line += "#\(worstIndex) of \(elementCount): \(worstReference) → \(worstCandidate)"
        }
        return line
    }

    /// The rows as a table with a header and a closing count line.
    public static func table(_ rows: [BackendOpComparison]) -> String {
        let failed = rows.filter(\.isFailure).count
        let notCompared = rows.filter { if case .unsupported = $0.outcome { !$0.isFailure } else { false } }.count
        return ([tableHeader] + rows.map(\.description)
            + ["compared \(rows.count) outputs: \(rows.count - failed - notCompared) ok, \(failed) failing, "
                + "\(notCompared) not compared"]).joined(separator: "\n")
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

private func format(_ value: Float) -> String {
    if value == 0 { return "0" }
    if !value.isFinite { return "\(value)" }
    var exponent = 0
    var mantissa = Double(abs(value))
    while mantissa >= 10 { mantissa /= 10; exponent += 1 }
    while mantissa < 1 { mantissa *= 10; exponent -= 1 }
    let rounded = (mantissa * 10).rounded() / 10
    return "\(rounded)e\(exponent)"
}

/// Runs every `Backend` op on `reference` and `candidate` with the same seeded random inputs and compares outputs.
///
/// Shapes are deliberately not multiples of 32 or 64 (N = 37 tokens, D = 72, Hq = 6, Hkv = 2, hd = 12, V = 301) and
/// attention runs over 3 packed sequences with and without a sliding window. Each case builds its inputs on the host,
/// uploads them to each backend, runs the op there and downloads every output; see `BackendComparisonCases.swift`.
/// - Returns: one row per (op case, output), in a stable order.
public func compareBackends(reference: any Backend, candidate: any Backend, seed: UInt64) throws
    -> [BackendOpComparison] {
    var rows: [BackendOpComparison] = []
    for comparisonCase in ComparisonCase.all(seed: seed) {
        rows += comparisonCase.compare(reference: reference, candidate: candidate)
    }
    rows += ComparisonCase.bf16Cases(seed: seed &+ 4).flatMap { $0.compare(reference: reference, candidate: candidate) }
    return rows
}

/// One op invocation: `run` builds the inputs on a backend, calls the op, and returns the named outputs as f32.
struct ComparisonCase {
    var op: String
    var variant: String
    var tolerance: ComparisonTolerance
    /// Per-output tolerances where they differ from `tolerance`.
    var outputTolerances: [String: ComparisonTolerance] = [:]
    var run: (any Backend) throws -> [(name: String, values: [Float])]

    func compare(reference: any Backend, candidate: any Backend) -> [BackendOpComparison] {
        let row = { (output: String, outcome: BackendOpComparison.Outcome) in
            BackendOpComparison(op: op, variant: variant, output: output, outcome: outcome, tolerance: tolerance)
        }
        let expected: [(name: String, values: [Float])]
        do {
            expected = try run(reference)
        } catch let TensorError.unsupported(_, backend, _) {
            return [row("-", .unsupported(backend: backend))]
        } catch {
            return [row("-", .error("reference \(reference.name): \(error)"))]
        }
        let actual: [(name: String, values: [Float])]
        do {
            actual = try run(candidate)
        } catch let TensorError.unsupported(_, backend, _) {
            var result = row("-", .unsupported(backend: backend))
            result.unsupportedByCandidate = true
            return [result]
        } catch {
            return [row("-", .error("candidate \(candidate.name): \(error)"))]
        }
        return zip(expected, actual).map { expected, actual in
            Self.compare(expected.values, actual.values,
                         into: row(expected.name, .passed), tolerance: outputTolerances[expected.name] ?? tolerance)
        }
    }

    static func compare(_ expected: [Float], _ actual: [Float], into row: BackendOpComparison,
                        tolerance: ComparisonTolerance) -> BackendOpComparison {
        var result = row
        result.tolerance = tolerance
        result.elementCount = expected.count
        guard expected.count == actual.count else {
            result.outcome = .error("reference gave \(expected.count) elements, candidate \(actual.count)")
            return result
        }
        var worstExcess = -Float.infinity
        for (index, (reference, candidate)) in zip(expected, actual).enumerated() {
            // Equal values (infinities included) and two NaNs agree; bit-exact cases also tell -0 from +0.
            let identical = candidate.bitPattern == reference.bitPattern || (reference.isNaN && candidate.isNaN)
            let difference: Float = identical || candidate == reference ? 0 : abs(candidate - reference)
            let allowed = tolerance.absolute + tolerance.relative * abs(reference)
            // A NaN on one side only is infinitely far off.
            var excess = difference.isNaN ? .infinity : difference - allowed
            if tolerance == .exact, !identical { excess = max(excess, .leastNonzeroMagnitude) }
            result.maxAbsoluteError = max(result.maxAbsoluteError, difference.isNaN ? .infinity : difference)
            if abs(reference) > tolerance.absolute, abs(reference) > 0 {
                result.maxRelativeError = max(result.maxRelativeError, difference / abs(reference))
            }
            if excess > worstExcess {
                worstExcess = excess
                result.worstIndex = index
                result.worstReference = reference
                result.worstCandidate = candidate
            }
            if excess > 0 { result.outcome = .failed }
        }
        return result
    }
}
