import Foundation
import Testing
import SwiftTuneCPU
import SwiftTuneCheckpoint
import SwiftTuneFamilies
import SwiftTuneTensor
@testable import SwiftTuneModels

/// Fixtures made by scripts/golden/make_decoder_goldens.py (HF transformers, f32, eager attention).
let goldenDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/golden")

/// One golden family: the model, its batch and the reference tensors.
struct Golden {
    let family: String
    let model: DecoderModel
    let batch: TokenBatch
    let file: SafetensorsFile
    let backend: CPUBackend

    init(_ family: String, backend: CPUBackend = CPUBackend(), precision: Precision = .f32) throws {
        self.family = family
        self.backend = backend
        let directory = goldenDirectory.appendingPathComponent(family)
        model = try DecoderModel.load(directory: directory, backend: backend, precision: precision)
        file = try SafetensorsFile(url: directory.appendingPathComponent("golden.safetensors"))
        let shape = try file.info("input_ids").shape
        let ids = try backend.int32s(file.tensor("input_ids", on: backend))
        let labels = try backend.int32s(file.tensor("labels", on: backend))
        let rows = (0..<shape[0]).map { $0 * shape[1] ..< ($0 + 1) * shape[1] }
        batch = try TokenBatch(sequences: rows.map { Array(ids[$0]) }, labels: rows.map { Array(labels[$0]) })
    }

    func reference(_ name: String) throws -> [Float] { try backend.floats(file.tensor(name, on: backend)) }
}

/// Fails with where and by how much: max |a − e| relative to max |e|, its index, and the first values.
func expectClose(_ actual: [Float], _ expected: [Float], relativeTolerance: Double, _ label: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(label): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var worst = 0, maxDiff = 0.0, scale = 0.0
    for i in expected.indices {
        let diff = abs(Double(actual[i]) - Double(expected[i]))
        if diff > maxDiff { (worst, maxDiff) = (i, diff) }
        scale = max(scale, abs(Double(expected[i])))
    }
    let relative = scale > 0 ? maxDiff / scale : maxDiff
    if relative > relativeTolerance {
        Issue.record("""
            \(label): relative error \(relative) > \(relativeTolerance) (max abs diff \(maxDiff) at index \(worst): \
            got \(actual[worst]), expected \(expected[worst]); scale \(scale)); first values got \
            \(actual.prefix(4)), expected \(expected.prefix(4))
            """, sourceLocation: sourceLocation)
    }
}

@Suite struct DecoderGoldenTests {
    /// Every registered family: adding one to the registry runs these against its golden.
    static let families = ModelFamily.allCases.map(\.modelType)

    @Test(arguments: families)
    func logitsAndHiddenStatesMatchTransformers(family: String) throws {
        let golden = try Golden(family)
        let batch = try golden.batch.upload(to: golden.backend)
        let states = try golden.model.hiddenStates(batch)
        for (i, state) in states.enumerated() {
            expectClose(try golden.backend.floats(state), try golden.reference("hidden.\(i)"),
                        relativeTolerance: 1e-4, "\(family) hidden.\(i)")
        }
        expectClose(try golden.backend.floats(golden.model.logits(batch)), try golden.reference("logits"),
                    relativeTolerance: 1e-4, "\(family) logits")
    }

    @Test(arguments: families)
    func lossAndGradientsMatchTransformers(family: String) throws {
        let golden = try Golden(family)
        golden.model.lossChunkSize = 7  // 24 tokens: uneven chunks exercise the chunked loss
        try golden.model.setAllTrainable(true)
        let batch = try golden.batch.upload(to: golden.backend)
        let output = try golden.model.lossAndGradients(batch, gradientScale: 1 / Float(batch.scoredTokenCount))
        let loss = try output.summary().loss
        let expectedLoss = Double(try golden.reference("loss")[0])
        #expect(abs(loss - expectedLoss) <= 1e-5 * abs(expectedLoss), "\(family) loss \(loss) vs HF \(expectedLoss)")
        let gradientNames = Set(golden.file.names.filter { $0.hasPrefix("grad.") })
        #expect(gradientNames.count == golden.model.parameters.count, "\(family): every HF parameter has a gradient here")
        for parameter in golden.model.parameters {
            let gradient = try #require(parameter.gradient, "\(parameter.name) has no gradient")
            expectClose(try golden.backend.floats(gradient), try golden.reference("grad.\(parameter.name)"),
                        relativeTolerance: 1e-3, "\(family) grad.\(parameter.name)")
        }
    }

    @Test(arguments: families)
    func gradientCheckpointingChangesNothing(family: String) throws {
        func gradients(checkpointing: Bool, recomputeNumLayers: Int? = nil) throws -> [[Float]] {
            let golden = try Golden(family)
            golden.model.gradientCheckpointing = checkpointing
            golden.model.recomputeNumLayers = recomputeNumLayers
            try golden.model.setAllTrainable(true)
            let batch = try golden.batch.upload(to: golden.backend)
            _ = try golden.model.lossAndGradients(batch, gradientScale: 1 / Float(batch.scoredTokenCount))
            return try golden.model.parameters.map { try golden.backend.floats(#require($0.gradient)) }
        }
        let plain = try gradients(checkpointing: false)
        #expect(try gradients(checkpointing: true) == plain)
        // Block recompute: only layer 0 recomputed (layer 1 keeps its activations), or none.
        #expect(try gradients(checkpointing: true, recomputeNumLayers: 1) == plain)
        #expect(try gradients(checkpointing: true, recomputeNumLayers: 0) == plain)
    }

    @Test func portableGEMMGivesTheSameLogits() throws {
        let blas = try Golden("qwen2"), portable = try Golden("qwen2", backend: CPUBackend(useBLAS: false))
        let a = try blas.backend.floats(blas.model.logits(blas.batch.upload(to: blas.backend)))
        let b = try portable.backend.floats(portable.model.logits(portable.batch.upload(to: portable.backend)))
        expectClose(b, a, relativeTolerance: 1e-5, "portable vs BLAS logits")
    }

    @Test func lossWithoutGradientsMatchesAndReturnsLogProbabilities() throws {
        let golden = try Golden("llama")
        let batch = try golden.batch.upload(to: golden.backend)
        let output = try golden.model.loss(batch, wantLogProbabilities: true)
        let summary = try output.summary()
        #expect(abs(summary.loss - Double(try golden.reference("loss")[0])) < 1e-5)
        let logProbabilities = try golden.backend.floats(#require(output.logProbabilities))
        let total = logProbabilities.reduce(0) { $0 - Double($1) }
        #expect(abs(total / Double(summary.tokens) - summary.loss) < 1e-5)
        #expect(zip(logProbabilities, golden.batch.targets).allSatisfy { $1 == TokenBatch.ignoreIndex ? $0 == 0 : $0 < 0 })
    }
}
