import SwiftTuneTensor

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

/// A compact `1.2e-5` for a table cell.
func format(_ value: Float) -> String {
    if value == 0 { return "0" }
    if !value.isFinite { return "\(value)" }
    var exponent = 0
    var mantissa = Double(abs(value))
    while mantissa >= 10 { mantissa /= 10; exponent += 1 }
    while mantissa < 1 { mantissa *= 10; exponent -= 1 }
    let rounded = (mantissa * 10).rounded() / 10
    return "\(rounded)e\(exponent)"
}
