import Foundation
import Testing
import SwiftTuneCPU
import SwiftTuneTensor
@testable import SwiftTuneBackendCheck

/// The comparison behind `check-backend`: it runs every case and model on two backends, and it catches what it
/// should (an element outside tolerance, a sign of zero in an exact case, a NaN on one side, a missing forward op).
@Suite struct BackendCheckTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/golden")

    /// The portable Swift GEMM against the default CPU backend (OpenBLAS where it is installed): every case of every
    /// family runs on both and agrees, and every golden model's logits and gradients match (and match HF).
    @Test func theCPUBackendsAgreeOnEveryCaseAndModel() throws {
        let report = try BackendCheckReport.run(candidate: CPUBackend(useBLAS: false), fixtures: Self.golden, seed: 42)
        let passed = report.passed, notOK = report.ops.filter { $0.outcome != .passed }
        #expect(passed, "\(BackendOpComparison.table(report.ops.filter(\.isFailure)))\n\(report.models)")
        #expect(notOK.isEmpty, "the CPU reference has every op: \(BackendOpComparison.table(notOK))")
        let compared = Set(report.ops.map(\.op))
        for family in ComparisonCase.families {
            let ops = Set(family.cases(0).map(\.op))
            #expect(!ops.isEmpty && ops.isSubset(of: compared), "\(family.name): \(ops.subtracting(compared))")
        }
        #expect(report.models.map(\.model) == ["llama", "mistral", "qwen2", "qwen3"])
        for model in report.models {
            #expect(model.relativeErrorToGolden != nil && model.gradientRelativeError != nil, "\(model)")
        }
    }

    @Test func elementsOutsideToleranceFailNamingTheWorst() {
        let row = BackendOpComparison(op: "op", variant: "v", output: "out", outcome: .passed, tolerance: .exact)
        let tolerance = ComparisonTolerance(absolute: 1e-3, relative: 1e-2)
        let within = ComparisonCase.compare([1, 2, 100], [1.0005, 2, 100.5], into: row, tolerance: tolerance)
        #expect(within.outcome == .passed && !within.isFailure && within.maxAbsoluteError == 0.5)
        let outside = ComparisonCase.compare([1, 2, 100], [1, 2.1, 100], into: row, tolerance: tolerance)
        #expect(outside.outcome == .failed && outside.isFailure)
        #expect(outside.worstIndex == 1 && outside.worstReference == 2 && outside.worstCandidate == 2.1)
        // Exact cases tell -0 from +0; two NaNs agree; a NaN on one side only is infinitely off.
        #expect(ComparisonCase.compare([0], [-0.0], into: row, tolerance: .exact).outcome == .failed)
        #expect(ComparisonCase.compare([.nan, .infinity], [.nan, .infinity], into: row, tolerance: .exact).outcome == .passed)
        let nan = ComparisonCase.compare([1], [.nan], into: row, tolerance: tolerance)
        #expect(nan.outcome == .failed && nan.maxAbsoluteError == .infinity)
        #expect(ComparisonCase.compare([1, 2], [1], into: row, tolerance: tolerance).isFailure)
    }

    @Test func aForwardOpTheCandidateLacksFailsAndABackwardOneIsOnlyReported() {
        let reference = CPUBackend(), candidate = CPUBackend(useBLAS: false)
        func lackedByCandidate(_ op: String) -> ComparisonCase {
            ComparisonCase(op: op, variant: "v", tolerance: .exact) { backend in
                if backend === candidate as AnyObject { throw TensorError.unsupported(op: op, backend: "fake", hint: "") }
                return [("out", [1])]
            }
        }
        let forward = lackedByCandidate("rmsNorm").compare(reference: reference, candidate: candidate)
        #expect(forward.count == 1 && forward[0].outcome == .unsupported(backend: "fake") && forward[0].isFailure)
        let backward = lackedByCandidate("rmsNormBackward").compare(reference: reference, candidate: candidate)
        #expect(backward.count == 1 && !backward[0].isFailure)
        #expect(BackendOpComparison.table(forward + backward).hasSuffix("compared 2 outputs: 0 ok, 1 failing, 1 not compared"))
    }

    @Test func relativeMaxErrorIsTheLargestDifferenceOverTheLargestReference() {
        #expect(relativeMaxError([2, -4], [2.5, -4]) == 0.125)
        #expect(relativeMaxError([0, 0], [0.5, 0]) == 0.5)
        #expect(relativeMaxError([1], [1, 2]) == .infinity)
    }
}
