import SwiftTuneTensor

/// Runs every `Backend` op on `reference` and `candidate` with the same seeded random inputs and compares outputs.
///
/// Shapes are deliberately not multiples of 32 or 64 (N = 37 tokens, D = 72, Hq = 6, Hkv = 2, hd = 12, V = 301) and
/// attention runs over 3 packed sequences with and without a sliding window. Each case builds its inputs on the host,
/// uploads them to each backend, runs the op there and downloads every output; see `ComparisonCase.all(seed:)`.
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
        let expected: [(name: String, values: [Float])], actual: [(name: String, values: [Float])]
        switch Self.runBoth(reference: reference, candidate: candidate, row: row,
                            reference: { try run($0) }, candidate: { try run($0) }) {
        case let .outputs(reference, candidate): (expected, actual) = (reference, candidate)
        case let .stopped(result): return [result]
        }
        return zip(expected, actual).map { expected, actual in
            Self.compare(expected.values, actual.values,
                         into: row(expected.name, .passed), tolerance: outputTolerances[expected.name] ?? tolerance)
        }
    }

    /// The outputs of a case run on the reference, then on the candidate, or the one row that says why there are
    /// none: an op a backend does not have (`unsupported`, marked as the candidate's when it is) or an error.
    enum BothRuns<Output> {
        case outputs(Output, Output)
        case stopped(BackendOpComparison)
    }

    static func runBoth<Output>(reference: any Backend, candidate: any Backend,
                                row: (String, BackendOpComparison.Outcome) -> BackendOpComparison,
                                reference runReference: (any Backend) throws -> Output,
                                candidate runCandidate: (any Backend) throws -> Output) -> BothRuns<Output> {
        let expected: Output
        do {
            expected = try runReference(reference)
        } catch let TensorError.unsupported(_, backend, _) {
            return .stopped(row("-", .unsupported(backend: backend)))
        } catch {
            return .stopped(row("-", .error("reference \(reference.name): \(error)")))
        }
        do {
            return .outputs(expected, try runCandidate(candidate))
        } catch let TensorError.unsupported(_, backend, _) {
            var result = row("-", .unsupported(backend: backend))
            result.unsupportedByCandidate = true
            return .stopped(result)
        } catch {
            return .stopped(row("-", .error("candidate \(candidate.name): \(error)")))
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

extension ComparisonCase {
    /// Every case, family by family, each family's inputs drawn from its own seed (`seed`, `seed + 1`, …) so a
    /// family added at the end leaves the others' inputs as they were. A new family of cases is a
    /// `Cases/ComparisonCase+<Family>.swift` with a `static func <family>Cases(seed:) -> [ComparisonCase]` and one
    /// entry here.
    static let families: [(name: String, cases: @Sendable (UInt64) -> [ComparisonCase])] = [
        ("ops", opCases),
        ("generation", generationCases),
        ("sampling", samplingCases),
        ("step scalars", stepScalarCases),
        ("quantization", quantizationCases),
        ("lora", loraCases),
        ("quantize", quantizeCases),
    ]

    static func all(seed: UInt64) -> [ComparisonCase] {
        families.enumerated().flatMap { index, family in family.cases(seed &+ UInt64(index)) }
    }
}
